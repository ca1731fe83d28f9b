package main

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"edgeproxy/bench/trace/tracelog"
)

// Config is a replay's settings; see the flags in main.go.
type Config struct {
	Log         string
	Proxy       string
	Concurrency int
	Timeout     time.Duration
	Settle      time.Duration
	BindClients bool
	// Serial sends every request in log order, one at a time, whatever
	// its client: with a proxy that does nothing in the background the
	// result is the same on every run.
	Serial bool
	// Largest replays the log as the simulator (bench/trace/sim) reads
	// it: every 200 and 304 a 200 of the URL's largest logged size, other
	// lines left out.
	Largest bool
	// Speed replays on the log's own time scale, compressed by Speed (10:
	// ten logged seconds take one): each request waits for its logged
	// time. Zero sends as fast as the proxy answers.
	Speed float64
}

// request is one GET of the log, rewritten for the synthetic origin.
type request struct {
	client int    // index of the logged client, in order of first appearance
	path   string // request URI at the origin: /HOST/PATH?QUERY, escaped where the log has bytes a request line may not carry
	status int    // logged status
	size   int64  // body bytes the origin sends for it
	full   int64  // the object's size: the URL's latest 200, or size
	at     int64  // logged time, unix ms
}

// trace is a loaded log.
type trace struct {
	format    string
	lines     int
	malformed int
	skipped   int
	requests  []request
	clients   []string
}

// loadTrace reads the log at path (.gz allowed), detecting its format.
// Every GET is kept with its logged status and size; a 304 stands for the
// URL's latest 200 the client already had.
func loadTrace(path string) (*trace, error) {
	l, err := tracelog.ReadFile(path)
	if errors.Is(err, tracelog.ErrFormat) {
		return nil, fmt.Errorf("%w: %s", errFormat, path)
	}
	if err != nil {
		return nil, err
	}
	t := &trace{format: l.Format, lines: l.Lines, malformed: l.Malformed}
	index := make(map[string]int)
	full := make(map[string]int64)
	for _, rec := range l.Records {
		if rec.Method != "GET" {
			t.skipped++
			continue
		}
		i, ok := index[rec.Client]
		if !ok {
			i = len(t.clients)
			index[rec.Client] = i
			t.clients = append(t.clients, rec.Client)
		}
		p := originPath(rec.URL)
		q := request{client: i, path: p, status: rec.Status, size: rec.Size, at: rec.Time.UnixMilli()}
		switch rec.Status {
		case 200:
			full[p] = rec.Size
			q.full = rec.Size
		case 304:
			// Squid logs a 304 with the size it would have sent.
			q.size, q.full = 0, full[p]
			if q.full == 0 {
				q.full = rec.Size
			}
		default:
			q.full = max(full[p], q.size)
		}
		t.requests = append(t.requests, q)
	}
	if len(t.requests) == 0 {
		return nil, fmt.Errorf("%w: %s", errEmpty, path)
	}
	return t, nil
}

// largest rewrites t as the simulator reads the log: every 200 and 304 a
// 200 of the URL's largest logged size (a 304 before any 200 of its URL is
// left out, as tracelog.Cacheable does), every other line left out.
func (t *trace) largest() {
	size := make(map[string]int64)
	for _, q := range t.requests {
		if q.status == 200 && q.size > 0 {
			size[q.path] = max(size[q.path], q.size)
		}
	}
	seen := make(map[string]bool)
	out := t.requests[:0]
	for _, q := range t.requests {
		switch {
		case q.status == 200 && q.size > 0:
			seen[q.path] = true
		case q.status == 304 && seen[q.path]:
		default:
			continue
		}
		q.status, q.size, q.full = 200, size[q.path], size[q.path]
		out = append(out, q)
	}
	t.requests = out
}

// originPath maps a logged URL to a request URI of the synthetic origin: an
// absolute URL http://host/path?q becomes /host/path?q; an origin-form URL
// (Common Log Format of a server) is kept. Bytes a request target may not
// carry (RFC 9112 §3.2: '#', spaces, controls, non-ASCII, and the
// delimiters RFC 3986 excludes) are percent-encoded, so "#frag" and a bare
// "?" reach the origin as one distinct, stable URI each.
func originPath(u string) string {
	rest, ok := strings.CutPrefix(u, "http://")
	if !ok {
		rest, ok = strings.CutPrefix(u, "https://")
	}
	switch {
	case ok && !strings.Contains(rest, "/"):
		rest = "/" + rest + "/"
	case ok:
		rest = "/" + rest
	case strings.HasPrefix(u, "/"):
		rest = u
	default:
		rest = "/" + u
	}
	return escapeTarget(rest)
}

// targetByte marks the bytes a request target may carry as they are.
var targetByte = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~!$&'()*+,;=:@/?%" {
		t[c] = true
	}
	return t
}()

func escapeTarget(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if targetByte[c] {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// Run replays c.Log through c.Proxy and returns what it measured.
func Run(c Config) (*Result, error) {
	if err := checkLoopback(c.Proxy); err != nil {
		return nil, err
	}
	c.Concurrency = max(c.Concurrency, 1)
	if c.Serial {
		c.Concurrency = 1
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	t, err := loadTrace(c.Log)
	if err != nil {
		return nil, err
	}
	if c.Largest {
		t.largest()
	}
	if c.BindClients && len(t.clients) > 65535 {
		return nil, errTooManyClients
	}

	var seq atomic.Int64
	o := &origin{current: make(map[string]request), seq: &seq, pending: make(map[string]int64)}
	// Until the log asks for a URI, the origin answers what it first
	// says about it: a prefetch may come before the first request.
	for _, q := range t.requests {
		if _, ok := o.current[q.path]; !ok {
			o.current[q.path] = q
		}
	}
	ln, srv, err := startOrigin(o)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	base := "//" + ln.Addr().String()

	r := &replayer{cfg: c, base: base, seq: &seq, origin: o}
	r.proxyURL = &url.URL{Scheme: "http", Host: c.Proxy}
	start := time.Now()
	r.run(t)
	elapsed := time.Since(start)
	time.Sleep(c.Settle)
	r.closeIdle()

	res := r.result(o, t)
	res.Seconds = elapsed.Seconds()
	return res, nil
}

// checkLoopback refuses a proxy address off this machine.
func checkLoopback(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return fmt.Errorf("%w: %v", errNotLoopback, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: got %q", errNotLoopback, hostport)
	}
	return nil
}

// replayer sends the requests and counts the answers.
type replayer struct {
	cfg      Config
	base     string // the origin, //127.0.0.1:port
	proxyURL *url.URL
	seq      *atomic.Int64 // client requests sent so far
	origin   *origin

	requests, errs, hits, mismatched atomic.Int64
	bytes, hitBytes                  atomic.Int64
	firstErr                         atomic.Pointer[string]
	mu                               sync.Mutex // protects transports
	transports                       []*http.Transport
}

// transport returns an HTTP transport through the proxy, connecting from
// local (nil: any address).
func (r *replayer) transport(local net.Addr, idle int) *http.Transport {
	d := &net.Dialer{Timeout: r.cfg.Timeout, LocalAddr: local}
	tr := &http.Transport{
		Proxy:               http.ProxyURL(r.proxyURL),
		DialContext:         d.DialContext,
		MaxIdleConns:        idle,
		MaxIdleConnsPerHost: idle,
		DisableCompression:  true,
	}
	r.mu.Lock()
	r.transports = append(r.transports, tr)
	r.mu.Unlock()
	return tr
}

func (r *replayer) closeIdle() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, tr := range r.transports {
		tr.CloseIdleConnections()
	}
}

// run sends every request of t: each client's in log order on the worker
// its index hashes to (all on one worker when serial), each no earlier
// than its logged time scaled by Speed.
func (r *replayer) run(t *trace) {
	n := r.cfg.Concurrency
	queues := make([]chan request, n)
	var wg sync.WaitGroup
	shared := r.transport(nil, n)
	seed := maphash.MakeSeed()
	for i := range queues {
		queues[i] = make(chan request, 64)
		if r.cfg.Serial || r.cfg.Speed > 0 {
			queues[i] = make(chan request)
		}
		wg.Go(func() {
			perClient := map[int]*http.Client{}
			for q := range queues[i] {
				hc := perClient[q.client]
				if hc == nil {
					tr := shared
					if r.cfg.BindClients {
						tr = r.transport(&net.TCPAddr{IP: clientIP(q.client)}, 2)
					}
					hc = &http.Client{Transport: tr, Timeout: r.cfg.Timeout}
					perClient[q.client] = hc
				}
				r.do(hc, q)
			}
		})
	}
	start := time.Now()
	t0 := t.requests[0].at
	for _, q := range t.requests {
		if r.cfg.Speed > 0 {
			due := start.Add(time.Duration(float64(q.at-t0) / r.cfg.Speed * float64(time.Millisecond)))
			time.Sleep(time.Until(due))
		}
		queues[maphash.Comparable(seed, q.client)%uint64(n)] <- q
	}
	for _, ch := range queues {
		close(ch)
	}
	wg.Wait()
}

// clientIP is the loopback address of client i under -bind-clients.
func clientIP(i int) net.IP {
	i++
	return net.IPv4(127, 1, byte(i>>8), byte(i))
}

// do sends one request and counts its answer. The origin is told first
// what the log says the answer is at this moment. A logged 304 is sent
// as a conditional request (If-Modified-Since the origin's Last-Modified),
// a logged 206 as a range of its logged length.
func (r *replayer) do(hc *http.Client, q request) {
	s := r.seq.Add(1)
	r.origin.set(q)
	r.requests.Add(1)

	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1/", nil)
	if err != nil {
		r.fail(err.Error())
		return
	}
	// Opaque carries the target byte for byte: net/http writes it as is.
	req.URL.Opaque = r.base + q.path
	req.URL.RawQuery, req.URL.Path = "", ""
	switch q.status {
	case http.StatusNotModified:
		req.Header.Set("If-Modified-Since", lastModified)
	case http.StatusPartialContent:
		if q.size > 0 {
			req.Header.Set("Range", fmt.Sprintf("bytes=0-%d", q.size-1))
		}
	}
	resp, err := hc.Do(req)
	if err != nil {
		r.fail(err.Error())
		return
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		r.fail(fmt.Sprintf("%s: body: %v", q.path, err))
		return
	}
	ok := resp.StatusCode == q.status ||
		(q.status == http.StatusNotModified && resp.StatusCode == http.StatusOK) ||
		(q.status == http.StatusPartialContent && resp.StatusCode == http.StatusOK)
	if !ok {
		r.fail(fmt.Sprintf("%s: status %d, logged %d", q.path, resp.StatusCode, q.status))
		return
	}
	if resp.StatusCode == q.status && n != q.size {
		// A stored older version of the URL answered: a hit as far as
		// the cache is concerned, counted apart.
		r.mismatched.Add(1)
	}
	if q.status == http.StatusNotModified {
		// The client has the object, from the proxy or from its own
		// cache: the log and the simulator count its size.
		n = q.full
	}
	r.bytes.Add(n)
	hit := isHit(resp.Header)
	if hit {
		r.hits.Add(1)
		r.hitBytes.Add(n)
	}
	r.origin.used(q.path, s, hit)
}

func (r *replayer) fail(msg string) {
	r.errs.Add(1)
	r.firstErr.CompareAndSwap(nil, &msg)
}

// isHit reports whether a response was served from the cache: X-Cache as
// Squid writes it ("HIT from name"), or a Cache-Status (RFC 9211) whose last
// member, the one the cache nearest the client added (§2), has the "hit"
// parameter.
func isHit(h http.Header) bool {
	if v := h.Get("X-Cache"); v != "" {
		return len(v) >= 3 && strings.EqualFold(v[:3], "HIT")
	}
	cs := h.Values("Cache-Status")
	if len(cs) == 0 {
		return false
	}
	last := cs[len(cs)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	params := strings.Split(last, ";")
	for _, p := range params[min(1, len(params)):] {
		if strings.EqualFold(strings.TrimSpace(p), "hit") {
			return true
		}
	}
	return false
}
