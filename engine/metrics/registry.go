package metrics

import (
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Registry holds every counter the proxy exports. There is one per
// process. All methods are safe for concurrent use.
type Registry struct {
	shards []shard
	// pool caches a shard pointer per P, so a loop usually finds the same
	// shard, uncontended and warm in its CPU's cache. It allocates
	// nothing: New hands out pointers into shards, round robin.
	pool sync.Pool
	next atomic.Uint32 // round-robin cursor for pool.New

	clients *table[addrKey]
	users   *table[string]

	clientConns, originConns, tunnels, workers Gauge

	runtime *runtimeMetrics // go_*, process_* and edgeproxy_build_info

	cmu     sync.Mutex // protects collect and serialises calls to it
	collect func(emit func(name, help, typ string, value float64, labels ...string))
}

// A shard is one slice of the request counters. Record and ObserveOrigin
// update a single shard; scrapes sum them all.
//
// What a loop writes on the hot path sits on cache lines its shard owns,
// or else two loops would steal lines from each other with no lock in
// sight. Shards are padded apart. The map is only read once a label set
// exists (a map assignment writes the map's header, and the headers of
// different shards' maps are allocated side by side); the counters it
// indexes live in a slice grown by grow.
type shard struct {
	mu        sync.Mutex          // protects the fields below
	idx       map[reqKey]int32    // index in reqs of each label set
	reqs      []int64             // requests by label set
	bytesIn   int64               // request bytes from clients
	bytesOut  int64               // response bytes to clients
	hits      int64               // requests served from the cache
	lookups   int64               // requests looked up in the cache
	prefetch  int64               // requests made by the prefetcher
	schemes   [nSchemes]int64     // requests by URL scheme
	origin    [nBuckets + 1]int64 // origin latencies per bucket, last is +Inf
	originSum float64             // sum of origin latencies, seconds
	_         [64]byte            // keeps neighbouring shards off this cache line
}

// Outcome is how one request ended. The engine fills one in when a request
// completes, on a loop or a worker, and hands it to Record.
type Outcome struct {
	// Method is the request method; methods outside a fixed table of
	// standard ones (and PURGE) count as "OTHER".
	Method string
	// Status is the status sent to the client; outside 100-599 it counts
	// as "000".
	Status int
	// Result is the Squid result code such as "TCP_HIT" or "TCP_MISS",
	// optionally with "_ABORTED" or "_TIMEDOUT"; "" counts as "NONE" and
	// codes Squid does not define as "OTHER".
	Result string
	// BytesIn is the size of the request from the client, head and body.
	BytesIn int64
	// BytesOut is the size of the response to the client, head and body.
	BytesOut int64
	// Client is the client's address; IPv4-mapped IPv6 addresses are
	// accounted as IPv4, and a zone is ignored. The zero Addr is not
	// accounted per client.
	Client netip.Addr
	// User is the authenticated user, "" if none; "" is not accounted per
	// user.
	User string
	// Hit reports that the response came from the cache. It is the one
	// source of edgeproxy_cache_hits_total and of the hits in
	// edgeproxy_cache_lookups_total.
	Hit bool
	// Scheme is the URL scheme of the request: "ftp" or "gopher" count
	// as such, anything else ("", "http", "https", CONNECT) as "http".
	Scheme string
	// Lookup reports that the request was looked up in the cache, whether
	// or not it was answered from it; a Hit counts as a lookup anyway.
	Lookup bool
	// Prefetch marks a request made by the prefetcher rather than a
	// client. It is counted in edgeproxy_prefetch_requests_total only, so
	// client traffic and accounting stay exact.
	Prefetch bool
}

// New returns an empty Registry with one shard per P, and twice that so
// that Ps rarely share one.
func New() *Registry {
	n := 2 * runtime.GOMAXPROCS(0)
	r := &Registry{
		shards:  make([]shard, n),
		clients: newTable(MaxAccounts, hashAddr, nil),
		users:   newTable(MaxAccounts, hashString, cloneString),
		runtime: newRuntimeMetrics(),
	}
	for i := range r.shards {
		r.shards[i].idx = make(map[reqKey]int32)
	}
	r.pool.New = func() any {
		return &r.shards[int(r.next.Add(1)-1)%len(r.shards)]
	}
	return r
}

// Record counts one completed request. It locks one shard and at most two
// accounting stripes, each for a few additions, and allocates nothing once
// o's label set, client and user have been seen.
func (r *Registry) Record(o *Outcome) {
	s := r.pool.Get().(*shard)
	s.mu.Lock()
	if o.Prefetch {
		s.prefetch++
	} else {
		k := makeKey(methodIndex(o.Method), resultIndex(o.Result), statusLabel(o.Status))
		i, ok := s.idx[k]
		if !ok {
			i = int32(len(s.reqs))
			s.idx[k] = i
			s.reqs = grow(s.reqs, 8)
		}
		s.reqs[i]++
		s.schemes[schemeIndex(o.Scheme)]++
		s.bytesIn += max(o.BytesIn, 0)
		s.bytesOut += max(o.BytesOut, 0)
		if o.Hit {
			s.hits++
		}
		if o.Hit || o.Lookup {
			s.lookups++
		}
	}
	s.mu.Unlock()
	r.pool.Put(s)
	if o.Prefetch {
		return
	}
	if o.Client.IsValid() {
		r.clients.add(o.Client.As16(), o)
	}
	if o.User != "" {
		r.users.add(o.User, o)
	}
}

// grow extends s by one zero element. It doubles the capacity, starting
// from first elements, which should fill one 64-byte cache line: the
// allocator aligns objects of 64, 128, 256... bytes to their size, so the
// array owns its cache lines and no other shard's or stripe's counters
// share them.
func grow[T any](s []T, first int) []T {
	if len(s) < cap(s) {
		return s[:len(s)+1]
	}
	n := make([]T, len(s)+1, max(2*cap(s), first))
	copy(n, s)
	return n
}

// nBuckets is the number of finite origin latency buckets.
const nBuckets = 14

// originBounds are the upper bounds of the origin latency buckets, 1 ms to
// 30 s, spaced as Prometheus's default buckets.
var originBounds = [nBuckets]time.Duration{
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second,
	10 * time.Second, 30 * time.Second,
}

// ObserveOrigin records one origin latency, the time from sending a request
// to the origin to receiving its response head, in
// edgeproxy_origin_latency_seconds. A negative d counts as 0. It allocates
// nothing.
func (r *Registry) ObserveOrigin(d time.Duration) {
	d = max(d, 0)
	i := 0
	for i < nBuckets && d > originBounds[i] {
		i++
	}
	s := r.pool.Get().(*shard)
	s.mu.Lock()
	s.origin[i]++
	s.originSum += d.Seconds()
	s.mu.Unlock()
	r.pool.Put(s)
}

// counters is the sum of all shards at one scrape.
type counters struct {
	reqs      map[reqKey]int64
	requests  int64
	bytesIn   int64
	bytesOut  int64
	hits      int64
	lookups   int64
	prefetch  int64
	schemes   [nSchemes]int64
	origin    [nBuckets + 1]int64
	originSum float64
}

// Schemes are the labels of edgeproxy_scheme_requests_total, by index.
var Schemes = [nSchemes]string{"http", "ftp", "gopher"}

const nSchemes = 3

// schemeIndex is the index in Schemes of a request's scheme.
func schemeIndex(s string) int {
	switch s {
	case "ftp":
		return 1
	case "gopher":
		return 2
	}
	return 0
}

// sum adds up the shards, locking one at a time.
func (r *Registry) sum() *counters {
	c := &counters{reqs: make(map[reqKey]int64)}
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		for k, i := range s.idx {
			c.reqs[k] += s.reqs[i]
			c.requests += s.reqs[i]
		}
		c.bytesIn += s.bytesIn
		c.bytesOut += s.bytesOut
		c.hits += s.hits
		c.lookups += s.lookups
		c.prefetch += s.prefetch
		for j, n := range s.schemes {
			c.schemes[j] += n
		}
		for j, n := range s.origin {
			c.origin[j] += n
		}
		c.originSum += s.originSum
		s.mu.Unlock()
	}
	return c
}

// originCount is the number of origin latencies observed.
func (c *counters) originCount() int64 {
	var n int64
	for _, b := range c.origin {
		n += b
	}
	return n
}
