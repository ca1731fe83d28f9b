package engine

import (
	"bytes"
	"time"

	"github.com/panjf2000/gnet/v2"

	"edgeproxy/cache"
	"edgeproxy/codec"
)

// hitState is a loop's scratch for answering from the cache. The lookup
// callback is bound once per loop (onHit), so a hit allocates nothing: the
// request, the connection and the results travel in these fields.
type hitState struct {
	cc      *clientConn
	r       *codec.Request
	close   bool
	key     []byte
	ranges  []codec.ByteRange
	vec     [][]byte
	parts   []byte
	onHit   func(cache.Hit, cache.Decision)
	served  bool
	status  int        // status of the answer written
	bytes   int64      // bytes of the answer written
	large   *cache.Ref // a tier-L hit to stream from a worker
	plan    hitPlan
	head    []byte // the head written for a tier-L hit
	etag    []byte // validators of a stale entry
	lastMod []byte
	ttl     time.Duration // the served object's freshness left, and its age
	age     time.Duration
	// byRequest: the stored object is fresh, but the request's directives
	// ask for a revalidation (cache.Hit.ByRequest)
	byRequest bool
	pre       bool   // the served object was stored by a prefetch
	route     route  // an intercepted request's destination, for a refresh
	ctype     []byte // the served object's Content-Type, for the log
}

func (l *loop) initHit() {
	hs := &l.hit
	hs.ranges = make([]codec.ByteRange, 0, codec.MaxRanges)
	hs.vec = make([][]byte, 0, 2*codec.MaxRanges+3)
	hs.onHit = l.onHit
}

// lookup answers r from the cache when it can. It reports whether r was
// handled; otherwise l.hit tells the exchange what the cache holds.
func (cc *clientConn) lookup(r *codec.Request, n int, buf []byte) (gnet.Action, bool, cache.Decision) {
	hs := &cc.l.hit
	hs.key = cache.AppendKey(hs.key[:0], r)
	hs.cc, hs.r = cc, r
	hs.route = cc.route()
	hs.close = r.Close || r.Minor == 0 || cc.s.draining.Load()
	hs.served, hs.large, hs.byRequest = false, nil, false
	hs.etag, hs.lastMod = hs.etag[:0], hs.lastMod[:0]
	s := cc.s
	now := time.Now()
	h := s.cache.Record(hs.key)
	if s.ahead != nil {
		s.ahead.rates.add(h, now.UnixNano())
	}
	if s.pf != nil && string(r.Method) == "GET" && schemeOf(r.Scheme) == schemeHTTP {
		s.pf.observe(cc.l, cc.remote, hs.key)
	}
	d := s.cache.Lookup(hs.key, r, now, hs.onHit)
	hs.cc, hs.r = nil, nil
	switch {
	case hs.served:
		switch {
		case d == cache.StaleWhileRevalidate:
			s.refresh(cc.l, hs, buf[:n], cc.remote.String(), nil)
		case s.ahead != nil && s.ahead.due(hs, h, now):
			if !s.refresh(cc.l, hs, buf[:n], cc.remote.String(), s.ahead.budget) {
				s.ahead.budget.release()
			}
		}
		if hs.pre && s.pf != nil {
			s.pf.hits.Add(1)
		}
		_, _ = cc.c.Discard(n)
		if hs.large != nil {
			return cc.streamLarge(r, hs), true, d
		}
		code := codeMemHit
		if hs.status == 304 {
			code = codeINMHit
		}
		cc.logLocal(r, hs.status, hs.bytes, code, cc.user, view(hs.ctype))
		if hs.close {
			return cc.closeWhenDrained(), true, d
		}
		cc.idle()
		return gnet.None, true, d
	case d == cache.OnlyIfCachedMiss && s.disk == nil:
		return cc.refuse(r, n, ErrOnlyIfCached), true, d
	}
	return gnet.None, false, d
}

// onHit runs inside Lookup, under the cache's segment lock: a servable
// tier-S object is written to the client here, with no copy of its body
// beyond the one into the kernel (or gnet's buffer, for what the kernel does
// not take at once).
func (l *loop) onHit(h cache.Hit, d cache.Decision) {
	hs := &l.hit
	hs.etag = append(hs.etag, h.ETag...)
	hs.lastMod = append(hs.lastMod, h.LastModified...)
	hs.byRequest = h.ByRequest
	if d != cache.Fresh && d != cache.StaleWhileRevalidate {
		return
	}
	hs.served = true
	hs.ttl, hs.age, hs.pre = h.TTL, h.Age, h.ClaimPrefetch()
	hs.ctype = append(hs.ctype[:0], fieldValue(h.Header, "Content-Type")...)
	p := planHit(hs.r, &h, hs.ranges)
	var mlen int64
	var ctype []byte
	if len(p.ranges) > 1 {
		if h.Large != nil { // a multipart answer is built only from tier S
			p = hitPlan{status: h.Status, length: h.Size}
		} else {
			ctype = fieldValue(h.Header, "Content-Type")
			mlen = multipartLength(&p, ctype, h.Size, hs.parts)
		}
	}
	l.out = appendHitHead(l.out[:0], &h, &p, l.s.set.name, mlen, hs.close, "")
	hs.status, hs.bytes = p.status, int64(len(l.out))
	if !p.noBody {
		hs.bytes += p.length
		if len(p.ranges) > 1 {
			hs.bytes += mlen - p.length
		}
	}
	if h.Large != nil && !p.noBody {
		h.Large.Retain()
		hs.large, hs.plan = h.Large, p
		// The plan goes to a worker: its ranges must not alias the loop's
		// scratch.
		hs.plan.ranges = append([]codec.ByteRange(nil), p.ranges...)
		if len(p.ranges) == 0 {
			hs.plan.ranges = []codec.ByteRange{{Start: 0, End: h.Size - 1}}
		}
		hs.head = append([]byte(nil), l.out...)
		return
	}
	vec := append(hs.vec[:0], l.out)
	switch {
	case p.noBody:
	case len(p.ranges) == 0:
		vec = append(vec, h.Body)
	case len(p.ranges) == 1:
		vec = append(vec, h.Body[p.ranges[0].Start:p.ranges[0].End+1])
	default:
		// Part headers go into one buffer first, so that slicing it is safe.
		parts := hs.parts[:0]
		var offs [codec.MaxRanges + 1]int
		for i, r := range p.ranges {
			offs[i] = len(parts)
			parts = appendPartHeader(parts, i == 0, ctype, r, h.Size)
		}
		offs[len(p.ranges)] = len(parts)
		parts = append(parts, multipartEnd...)
		for i, r := range p.ranges {
			vec = append(vec, parts[offs[i]:offs[i+1]], h.Body[r.Start:r.End+1])
		}
		vec = append(vec, parts[offs[len(p.ranges)]:])
		hs.parts = parts
	}
	_, _ = hs.cc.c.Writev(vec)
}

// streamLarge hands a tier-L hit to a worker, which streams the body behind
// the head built on the loop.
func (cc *clientConn) streamLarge(r *codec.Request, hs *hitState) gnet.Action {
	ex := &exchange{s: cc.s, cc: cc, c: cc.c, minor: r.Minor, close: hs.close, large: hs.large, plan: hs.plan, hhead: hs.head,
		start: time.Now(), user: cc.user, method: string(r.Method), target: string(r.Target), ctype: string(hs.ctype),
		referer: string(r.Header("Referer")), agent: string(r.Header("User-Agent"))}
	ex.sink.init(cc.c, ex)
	hs.large, hs.head = nil, nil
	return cc.dispatch(ex)
}

// closeWhenDrained closes the connection once gnet has written everything
// it holds for it; closing earlier would drop the end of the response.
func (cc *clientConn) closeWhenDrained() gnet.Action {
	if cc.c.OutboundBuffered() == 0 {
		return gnet.Close
	}
	if cc.state != stClosing {
		cc.state, cc.since = stClosing, cc.s.now()
	}
	wakeLater(cc.c, 2*time.Millisecond)
	return gnet.None
}

// revalidation is the Cache-Status fwd parameter of a revalidation: the
// request's directives forbade a fresh stored response (RFC 9211 §2.4
// fwd=request), or the stored response was stale.
func (ex *exchange) revalidation() string {
	if ex.byRequest {
		return "fwd=request"
	}
	return "fwd=stale"
}

// report is the Cache-Status fwd parameter of a forwarded response.
func (ex *exchange) report() string {
	switch {
	case ex.fwd != "":
	case ex.mode == cacheMiss:
		ex.fwd = "fwd=uri-miss"
	case ex.mode == cacheRevalidate:
		ex.fwd = ex.revalidation()
	default:
		ex.fwd = "fwd=bypass"
	}
	if ex.fill != nil {
		return ex.fwd + "; stored"
	}
	return ex.fwd
}

// sameOriginKey is the cache key of the reference ref (absolute, or an
// absolute path) when it has the same origin as key, else nil.
func sameOriginKey(key, ref []byte) []byte {
	i := 0
	if j := bytes.Index(key, []byte("://")); j >= 0 {
		i = j + 3
	}
	for i < len(key) && key[i] != '/' {
		i++
	}
	origin := key[:i]
	if len(ref) > 0 && ref[0] == '/' && (len(ref) == 1 || ref[1] != '/') {
		return append(append([]byte(nil), origin...), ref...)
	}
	k := absoluteKey(nil, ref)
	if len(k) < len(origin) || string(k[:len(origin)]) != string(origin) || (len(k) > len(origin) && k[len(origin)] != '/') {
		return nil
	}
	return k
}

// absoluteKey appends the cache key of an absolute URI to dst; dst comes
// back unchanged when uri is not one.
func absoluteKey(dst, uri []byte) []byte {
	head := append(append([]byte("GET "), uri...), " HTTP/1.1\r\nHost: x\r\n\r\n"...)
	var r codec.Request
	r.Reset()
	var p codec.Parser
	if _, err := p.Parse(head, &r, nil); err != nil || r.Form != codec.FormAbsolute {
		return dst
	}
	return cache.AppendKey(dst, &r)
}

// purge answers PURGE <absolute URL>: every stored variant of the URL is
// removed. Only clients in the admin networks (acl.admin_file, by default
// loopback) may purge.
func (cc *clientConn) purge(r *codec.Request, n int) gnet.Action {
	if !cc.s.pol.Load().admin.Contains(cc.remote) && !cc.s.hops.trusted(cc.remote) {
		return cc.refuse(r, n, ErrPurgeDenied)
	}
	if act, ok := cc.purgeAtOwner(r, n); ok {
		return act
	}
	status := 404
	if cc.s.cache != nil {
		if cc.s.invalidate(cache.AppendKey(cc.l.hit.key[:0], r)) {
			status = 200
		}
	}
	out := codec.AppendStatusLine(cc.l.out[:0], status)
	out = codec.AppendHeaderString(out, "Content-Length", "0")
	out = appendConnection(out, r.Close || r.Minor == 0)
	out = append(out, "\r\n"...)
	cc.l.out = out
	// Squid logs a PURGE it carried out as TCP_MISS, with 200 or 404.
	cc.logLocal(r, status, int64(len(out)), codeMiss, cc.user, "")
	return cc.writeLocal(r, n, out)
}

// refresh revalidates a stored entry in the background: a stale one
// (stale-while-revalidate, RFC 5861 §3), or a popular one about to expire
// (refresh-ahead, charged to b). It runs on loop l, whose origin pool
// fetches an http URL (fill_loop.go); an https one goes to a worker and its
// origin client (fill_worker.go). A refresh already running for the key, or a full worker pool,
// skips it and refresh reports false: the next hit tries again.
func (s *Server) refresh(l *loop, hs *hitState, head []byte, client string, b *budget) bool {
	if !bytes.HasPrefix(hs.key, []byte("http")) {
		return false // ftp:// and gopher:// entries are fetched again when stale
	}
	f, leader := s.cache.Join(hs.key)
	if !leader {
		return false
	}
	ex := &exchange{s: s, minor: 1, close: true, client: client, start: time.Now(), bg: bgRevalidate}
	ex.own(head, hs.key, &s.set.limits)
	if ex.mode = cacheRevalidate; ex.creq.Method == nil {
		f.Cancel()
		return false
	}
	ex.stale = cache.StaleRevalidate
	ex.etag = nonEmpty(hs.etag)
	ex.lastMod = nonEmpty(hs.lastMod)
	ex.flight = f
	if !bytes.HasPrefix(hs.key, []byte("https:")) {
		ex.routeBackground(hs.route, hs.key)
		s.startBackground(l, ex, &nullSink{budget: b}, func() {
			if b != nil {
				b.release()
			}
		})
		return true
	}
	ex.routeBackground(hs.route, hs.key)
	null := &nullSink{budget: b}
	ex.fs.null = null
	ex.fs.bgEnd = func() { // run's end on a worker (fill_worker.go)
		ex.abortFill()
		ex.endFlight()
	}
	s.inflight.Add(1)
	if err := s.pool.Submit(func() {
		defer s.inflight.Add(-1)
		defer ex.release()
		if b != nil {
			defer b.release()
		}
		ex.fetchCached(null)
	}); err != nil {
		s.inflight.Add(-1)
		ex.release()
		f.Cancel()
		return false
	}
	return true
}

// nonEmpty copies b, or returns nil for an empty b.
func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// nullSink discards a response: a background fetch has no client. It
// counts the body bytes it is handed, which for a background fetch are the
// bytes read from the origin.
type nullSink struct {
	readBufs
	bytes  int64
	budget *budget // charged as the bytes arrive; nil for none
	limit  int64   // body bytes past which write fails; 0 for none
}

func (n *nullSink) buffer() []byte { return nil }

// write counts body bytes. Past limit it fails, which ends the exchange's
// interest in the body: with no fill left to feed, pump stops reading and
// the origin connection is closed.
func (n *nullSink) write(_, body, _ []byte) error {
	n.count(len(body))
	if n.limit > 0 && n.bytes > n.limit {
		return errTooBig
	}
	return nil
}

func (n *nullSink) finish(_, body, _ []byte, _ bool) {
	n.count(len(body))
	n.free()
}

func (n *nullSink) count(k int) {
	n.bytes += int64(k)
	if n.budget != nil {
		n.budget.charge(int64(k))
	}
}

func (n *nullSink) abort() { n.free() }
