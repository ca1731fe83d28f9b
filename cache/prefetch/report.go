package prefetch

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Record is one request of an access log.
type Record struct {
	Client, URL string
	Time        time.Time
	Bytes       int64
}

// Replay measures a graph on a request stream while it learns from it.
// For each request B by client c, in order:
//
//  1. B was predicted if it is in a prefetch issued for c within c's last
//     Window requests: the prefetch set of one of those requests, taken
//     when that request was made;
//  2. the prefetch set of B, from what the graph has learned so far, is
//     issued for c: each URL not already pending for c counts as one
//     prefetch, pending for c's next Window requests;
//  3. the graph observes B.
//
// A prefetch is used when c asks for its URL while it is pending; precision
// is used / issued. A Replay is not safe for concurrent use.
type Replay struct {
	g       *Graph
	window  int
	pending map[string][]pendingURL // by client; a client with none is removed
	set     []string

	Requests       int       // requests replayed
	Predicted      int       // requests found among their client's pending prefetches
	Bytes          int64     // bytes of all requests, as logged
	PredictedBytes int64     // bytes of the predicted requests
	Issued         int       // prefetches issued
	Used           int       // prefetches their client asked for while pending
	Read           ReadStats // the log reader's counts; set by RunReport
	Format         string    // the log's format; set by RunReport
}

// pendingURL is a prefetch issued for a client and not yet lapsed.
type pendingURL struct {
	h    uint64
	left int   // requests of the client before it lapses
	at   int64 // when it was issued, unix nanoseconds (lapses after Span)
	used bool
}

// NewReplay returns a Replay that teaches g, which should be new.
func NewReplay(g *Graph) *Replay {
	return &Replay{g: g, window: g.opts.Window, pending: make(map[string][]pendingURL)}
}

// Add replays one request, made now.
func (r *Replay) Add(client, url string, bytes int64) {
	r.AddAt(client, url, time.Now(), bytes)
}

// AddAt replays one request made at the time at (a log's): with a Span,
// arcs and pending prefetches are bounded by it.
func (r *Replay) AddAt(client, url string, at time.Time, bytes int64) {
	h := xxhash.Sum64String(url)
	now := at.UnixNano()
	span := int64(r.g.opts.Span)
	r.Requests++
	r.Bytes += bytes
	p := r.pending[client]
	hit := false
	keep := p[:0]
	for _, q := range p {
		if span > 0 && now-q.at > span {
			continue // lapsed before this request
		}
		if q.h == h {
			hit = true
			if !q.used {
				q.used = true
				r.Used++
			}
		}
		if q.left--; q.left > 0 {
			keep = append(keep, q)
		}
	}
	p = keep
	if hit {
		r.Predicted++
		r.PredictedBytes += bytes
	}
	r.set = r.g.PrefetchSet(url, r.set[:0])
	for _, u := range r.set {
		uh := xxhash.Sum64String(u)
		if uh == h {
			continue
		}
		i := 0
		for i < len(p) && p[i].h != uh {
			i++
		}
		if i < len(p) {
			p[i].left, p[i].at = r.window, now
			continue
		}
		p = append(p, pendingURL{h: uh, left: r.window, at: now})
		r.Issued++
	}
	if len(p) == 0 {
		delete(r.pending, client)
	} else {
		r.pending[client] = p
	}
	r.g.ObserveAt(client, url, at)
}

// Report replays records through g (see Replay) and writes the figures and
// the top arcs learned to w.
func Report(w io.Writer, g *Graph, records ...Record) error {
	r := NewReplay(g)
	for _, rec := range records {
		r.AddAt(rec.Client, rec.URL, rec.Time, rec.Bytes)
	}
	return r.Print(w, 20)
}

// Print writes the replay's figures and the top arcs of its graph to w.
func (r *Replay) Print(w io.Writer, arcs int) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	o := r.g.Options()
	if r.Format != "" {
		fmt.Fprintf(tw, "log\t%s: %d lines, %d GET, %d other methods, %d malformed\n",
			r.Format, r.Read.Lines, r.Read.Records, r.Read.Skipped, r.Read.Malformed)
	}
	fmt.Fprintf(tw, "options\twindow %d, threshold %.2f, min count %d, span %s, max nodes %d, max arcs %d, max clients %d, age every %d\n",
		o.Window, o.Threshold, o.MinCount, o.Span, o.MaxNodes, o.MaxArcs, o.MaxClients, o.AgeEvery)
	st := r.g.Stats()
	fmt.Fprintf(tw, "graph\t%d nodes, %d arcs, %d clients, %d halvings, ~%.1f MiB\n",
		st.Nodes, st.Arcs, st.Clients, st.Aged, float64(st.Bytes)/(1<<20))
	fmt.Fprintf(tw, "requests\t%d, %d bytes\n", r.Requests, r.Bytes)
	fmt.Fprintf(tw, "predicted\t%d requests (%.1f%%), %d bytes (%.1f%%)\n",
		r.Predicted, pct(int64(r.Predicted), int64(r.Requests)), r.PredictedBytes, pct(r.PredictedBytes, r.Bytes))
	fmt.Fprintf(tw, "prefetches\t%d issued, %d used: precision %.1f%%\n", r.Issued, r.Used, pct(int64(r.Used), int64(r.Issued)))
	if err := tw.Flush(); err != nil {
		return err
	}
	top := r.g.TopArcs(arcs)
	if len(top) == 0 {
		return nil
	}
	fmt.Fprintf(tw, "\ntop arcs\tcount\tp\t\n")
	for _, a := range top {
		mark := ""
		if a.P >= o.Threshold {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s -> %s\t%d\t%.3f\t%s\n", a.From, a.To, a.Count, a.P, mark)
	}
	fmt.Fprintf(tw, "(* in the prefetch set: p ≥ %.2f)\n", o.Threshold)
	return tw.Flush()
}

func pct(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

// Log formats RunReport recognises.
const (
	FormatSquid  = "squid"
	FormatCommon = "common"
)

// detectLines is how many non-empty lines DetectFormat looks at.
const detectLines = 32

// DetectFormat returns FormatSquid or FormatCommon, whichever parses more of
// the first lines of head, or ErrFormat when neither parses any.
func DetectFormat(head []byte) (string, error) {
	squid, common := 0, 0
	for n := 0; n < detectLines && len(head) > 0; {
		line, rest, _ := bytes.Cut(head, []byte("\n"))
		head = rest
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		n++
		if _, ok := parseSquid(line); ok {
			squid++
		}
		if _, ok := parseCommon(line); ok {
			common++
		}
	}
	switch {
	case squid == 0 && common == 0:
		return "", ErrFormat
	case squid >= common:
		return FormatSquid, nil
	default:
		return FormatCommon, nil
	}
}

// RunReport reads the access log at logPath (Squid native or Common/Combined
// Log Format, detected from its first lines), replays it through a new
// graph with opts and writes the report to w. It backs
// `edgeproxy prefetch-report --log FILE`.
func RunReport(w io.Writer, logPath string, opts Options) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	f, err := os.Open(logPath)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, MaxLine)
	head, err := br.Peek(MaxLine)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return fmt.Errorf("prefetch: read %s: %w", logPath, err)
	}
	format, err := DetectFormat(head)
	if err != nil {
		return fmt.Errorf("%w: %s", err, logPath)
	}
	read := ReadSquid
	if format == FormatCommon {
		read = ReadCommon
	}
	r := NewReplay(New(opts))
	r.Format = format
	r.Read, err = read(br, func(client, url string, at time.Time, bytes int64) {
		r.AddAt(client, url, at, bytes) // at the logged time, for Span
	})
	if err != nil {
		return fmt.Errorf("prefetch: read %s: %w", logPath, err)
	}
	return r.Print(w, 20)
}
