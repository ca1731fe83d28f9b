package engine

import (
	"context"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/panjf2000/gnet/v2"

	"edgeproxy/cache"
	"edgeproxy/cache/prefetch"
	"edgeproxy/codec"
	"edgeproxy/engine/accesslog"
	"edgeproxy/engine/config"
	"edgeproxy/engine/metrics"
)

// prefetcher learns from the requests clients make which objects follow
// which (prefetch.Graph), and when a client asks for A, fetches the members
// of A's prefetch set that are not fresh in the cache, so that the client's
// next requests are hits. Event loops hand it the requests through one
// feed per loop, which costs a copy of the URL into a preallocated slot and
// no allocation; a learner goroutine drains the feeds, updates the graph and
// starts the fetches on the worker pool, within the schedule and the
// budget. Prefetch requests carry X-Edgeproxy-Prefetch: 1, are logged with
// the hierarchy code PREFETCH, count in edgeproxy_prefetch_requests_total
// and not in any client's accounting, and are never observed by the graph.
type prefetcher struct {
	s      *Server
	graph  *prefetch.Graph
	sched  prefetch.Schedule
	budget *budget
	seed   string // log read at start-up, "" for none

	maxObject int64 // prefetch.max_object
	// unstorable remembers, by key hash, URLs whose prefetch stored
	// nothing (too big, not cacheable, an error), so that the next
	// prediction does not fetch them again: direct-mapped, a colliding URL
	// takes the slot over. Written by workers, read by the learner.
	unstorable [unstorableSlots]atomic.Uint64

	wake chan struct{} // a feed has records; capacity 1
	stop chan struct{}
	done chan struct{}

	feedsMu sync.Mutex
	feeds   []*feed

	skipUnstorable atomic.Int64 // set members that a prefetch could not store lately
	dropped        atomic.Int64 // records lost to a full feed
	issued         atomic.Int64 // prefetches started
	fresh          atomic.Int64 // set members already fresh in the cache
	offHours       atomic.Int64 // set members skipped outside the schedule
	hits           atomic.Int64 // hits on prefetched objects
	seeded         atomic.Int64 // records read from the seed log
	seedError      atomic.Value // error reading it, if any

	// The learner's scratch for fetch; onStored is bound once.
	head          []byte
	key           []byte
	etag, lastMod []byte
	req           codec.Request
	parser        codec.Parser
	onStored      func(cache.Hit, cache.Decision)
}

// prefetchHeader marks the prefetcher's own requests to the origin.
const prefetchHeader = "X-Edgeproxy-Prefetch"

// unstorableSlots is the size of the prefetcher's memory of URLs it could
// not store (8 bytes each).
const unstorableSlots = 4096

func newPrefetcher(s *Server, c *config.Prefetch, cacheMax int64, load func() float64) (*prefetcher, error) {
	if !c.Enabled {
		return nil, nil
	}
	sched, err := prefetch.ParseSchedule(c.Schedule)
	if err != nil {
		return nil, err
	}
	p := &prefetcher{
		s: s,
		graph: prefetch.New(prefetch.Options{
			Window:    c.Window,
			Threshold: c.Threshold,
			MinCount:  c.MinCount,
			MaxNodes:  c.MaxNodes,
		}),
		sched:     sched,
		budget:    newBudget(c.MaxConcurrent, int64(c.MaxBandwidth), c.MaxLoad, load),
		seed:      c.SeedLog,
		maxObject: min(int64(c.MaxObject), cacheMax),
		wake:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	p.onStored = p.storedValidators
	return p, nil
}

// feed carries one loop's requests to the learner: a single-producer,
// single-consumer ring of fixed slots. The loop writes a slot and then
// publishes it by advancing head; the learner reads slots up to head and
// frees them by advancing tail.
type feed struct {
	head  atomic.Uint64 // next slot the loop writes
	tail  atomic.Uint64 // next slot the learner reads
	slots [feedSlots]feedSlot
}

// feedSlots bounds the records waiting per loop; feedURLMax the URL bytes a
// slot holds (longer URLs are not learned). A loop's feed is 132 KiB.
const (
	feedSlots  = 256
	feedURLMax = 512
)

type feedSlot struct {
	client netip.Addr
	n      int
	url    [feedURLMax]byte
}

// feedFor returns the loop's feed, registering it on first use.
func (p *prefetcher) feedFor(l *loop) *feed {
	if l.feed == nil {
		l.feed = new(feed)
		p.feedsMu.Lock()
		p.feeds = append(p.feeds, l.feed)
		p.feedsMu.Unlock()
	}
	return l.feed
}

// observe hands the learner a client's request for key. It runs on loop l
// and allocates nothing once the loop's feed exists.
func (p *prefetcher) observe(l *loop, client netip.Addr, key []byte) {
	if len(key) == 0 || key[0] == 0 || len(key) > feedURLMax {
		return
	}
	f := p.feedFor(l)
	h := f.head.Load()
	if h-f.tail.Load() >= feedSlots {
		p.dropped.Add(1)
		return
	}
	sl := &f.slots[h%feedSlots]
	sl.client = client
	sl.n = copy(sl.url[:], key)
	f.head.Store(h + 1)
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run is the learner: it reads the seed log, then drains the feeds as they
// fill until stop.
func (p *prefetcher) run() {
	defer close(p.done)
	if p.seed != "" {
		p.readSeed()
	}
	var (
		set    []string
		feeds  []*feed
		client []byte
	)
	for {
		select {
		case <-p.stop:
			return
		case <-p.wake:
		}
		p.feedsMu.Lock()
		feeds = append(feeds[:0], p.feeds...)
		p.feedsMu.Unlock()
		for _, f := range feeds {
			for t := f.tail.Load(); t < f.head.Load(); t++ {
				// The views into the slot live until tail passes it; the
				// graph copies what it keeps.
				sl := &f.slots[t%feedSlots]
				url := view(sl.url[:sl.n])
				client = sl.client.AppendTo(client[:0])
				p.graph.Observe(view(client), url)
				set = p.graph.PrefetchSet(url, set[:0])
				f.tail.Store(t + 1)
				for _, u := range set {
					p.fetch(u)
				}
			}
		}
	}
}

// readSeed teaches the graph the requests of an existing access log.
func (p *prefetcher) readSeed() {
	log := p.s.log
	f, err := os.Open(p.seed)
	if err != nil {
		p.seedError.Store(err)
		log.Error("prefetch.seed_log: cannot read it; learning from live requests only", "err", err)
		return
	}
	defer f.Close() //nolint:errcheck
	head := make([]byte, 4096)
	n, _ := f.Read(head)
	format, err := prefetch.DetectFormat(head[:n])
	if err == nil {
		_, err = f.Seek(0, 0)
	}
	if err != nil {
		p.seedError.Store(err)
		log.Error("prefetch.seed_log: not read", "file", p.seed, "err", err)
		return
	}
	read := prefetch.ReadSquid
	if format == prefetch.FormatCommon {
		read = prefetch.ReadCommon
	}
	var key []byte
	st, err := read(f, func(client, url string, _ time.Time, _ int64) {
		if key = keyOf(key[:0], url); len(key) > 0 {
			p.graph.Observe(client, string(key))
			p.seeded.Add(1)
		}
	})
	if err != nil {
		p.seedError.Store(err)
	}
	log.Info("prefetch: learned from the seed log", "file", p.seed, "format", format,
		"records", st.Records, "skipped", st.Skipped, "malformed", st.Malformed, "err", err)
}

// keyOf appends the cache key of an absolute http URL that the prefetcher
// could fetch to dst; dst is returned unchanged when url is not one.
func keyOf(dst []byte, url string) []byte {
	if _, ok := cutPrefixFold(url, "http://"); !ok || len(url) > feedURLMax {
		return dst
	}
	return absoluteKey(dst, []byte(url))
}

// appendRequestHead appends a GET request head for an absolute http URL,
// as a client would send it, to dst; dst is returned unchanged when url is
// not one.
func appendRequestHead(dst []byte, url string) []byte {
	rest, ok := cutPrefixFold(url, "http://")
	if !ok || len(url) > feedURLMax {
		return dst
	}
	host := rest
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host = rest[:i]
	}
	dst = append(dst, "GET "...)
	dst = append(dst, url...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	return append(dst, "\r\n\r\n"...)
}

// cutPrefixFold is strings.CutPrefix ignoring ASCII case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !codec.EqualFold([]byte(s[:len(prefix)]), prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// fetch brings url (a cache key) into the cache unless it is fresh there,
// being fetched, outside the schedule or over the budget. A stale entry
// with validators is revalidated rather than fetched whole. Finding the
// member fresh, the common case, allocates nothing: the learner's scratch
// holds the request it looks up.
func (p *prefetcher) fetch(url string) {
	s := p.s
	now := time.Now()
	if !p.sched.Allows(now) {
		p.offHours.Add(1)
		return
	}
	p.head = appendRequestHead(p.head[:0], url)
	if len(p.head) == 0 {
		return
	}
	p.req.Reset()
	if _, err := p.parser.Parse(p.head, &p.req, &s.set.limits); err != nil {
		return
	}
	p.key = cache.AppendKey(p.key[:0], &p.req)
	h := xxhash.Sum64(p.key)
	if p.unstorable[h%unstorableSlots].Load() == h {
		p.skipUnstorable.Add(1)
		return
	}
	p.etag, p.lastMod = p.etag[:0], p.lastMod[:0]
	mode := uint8(cacheMiss)
	switch s.cache.Lookup(p.key, &p.req, now, p.onStored) {
	case cache.Fresh, cache.StaleWhileRevalidate:
		p.fresh.Add(1)
		return
	case cache.Miss:
		if p.onDisk(now) {
			p.fresh.Add(1)
			return
		}
	default:
		mode = cacheRevalidate
	}
	if !p.budget.take(now) {
		return
	}
	f, leader := s.cache.Join(p.key)
	if !leader {
		p.budget.release()
		return
	}
	l := s.pickLoop()
	if l == nil {
		f.Cancel()
		p.budget.release()
		return
	}
	ex := &exchange{s: s, minor: 1, close: true, start: now, bg: bgPrefetch, method: "GET", target: url}
	ex.own(p.head, p.key, &s.set.limits)
	ex.mode, ex.flight = mode, f
	if mode == cacheRevalidate {
		ex.stale = cache.StaleRevalidate
		ex.etag, ex.lastMod = nonEmpty(p.etag), nonEmpty(p.lastMod)
	}
	sink := &nullSink{budget: p.budget, limit: p.maxObject}
	end := func() {
		p.logDone(ex, sink.bytes)
		if !p.stored(ex) {
			p.unstorable[h%unstorableSlots].Store(h)
		}
		p.budget.release()
	}
	// The fetch runs on a loop's origin pool (fill_loop.go), the loops
	// taken in turn.
	if err := l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		s.startBackground(l, ex, sink, end)
		return nil
	})); err != nil {
		f.Cancel()
		p.budget.release()
		return
	}
	p.issued.Add(1)
}

// onDisk reports whether the disk tier holds the object in p.key, unexpired.
// (The check counts as one of the object's disk hits towards promotion.)
func (p *prefetcher) onDisk(now time.Time) bool {
	t := p.s.disk
	if t == nil {
		return false
	}
	d := t.pick(p.key)
	if d.st == nil {
		return false
	}
	o, ok := d.st.Get(p.key)
	return ok && (o.Expires.IsZero() || now.Before(o.Expires))
}

// stored reports whether the object ex prefetched is now in the cache.
func (p *prefetcher) stored(ex *exchange) bool {
	d := p.s.cache.Lookup(ex.key, &ex.creq, time.Now(), func(cache.Hit, cache.Decision) {})
	return d != cache.Miss
}

// onStored keeps the validators of the entry fetch found.
func (p *prefetcher) storedValidators(h cache.Hit, _ cache.Decision) {
	p.etag = append(p.etag, h.ETag...)
	p.lastMod = append(p.lastMod, h.LastModified...)
}

// logDone records a finished prefetch: in metrics apart from client
// traffic, and in the access log with the hierarchy code PREFETCH.
func (p *prefetcher) logDone(ex *exchange, n int64) {
	code := ex.code
	if code == "" {
		code = codeMiss
	}
	o := metrics.Outcome{Method: "GET", Status: ex.status, Result: code, BytesOut: n, Prefetch: true}
	p.s.stats.Record(&o)
	w := p.s.alog
	if w == nil {
		return
	}
	peer := ex.peer
	if peer == "" {
		peer = string(ex.creq.Host)
	}
	rec := accesslog.Record{
		Time:      time.Now(),
		Elapsed:   time.Since(ex.start),
		Code:      code,
		Status:    ex.status,
		Bytes:     n,
		Method:    "GET",
		URL:       ex.target,
		Proto:     "HTTP/1.1",
		Hierarchy: accesslog.HierPrefetch,
		Peer:      peer,
	}
	w.Log(&rec)
}

// close stops the learner and waits for it.
func (p *prefetcher) close() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
}
