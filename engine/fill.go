package engine

import (
	"time"

	"edgeproxy/cache"
	"edgeproxy/codec"
)

// How an exchange involves the cache.
const (
	cacheNone       uint8 = iota // not a cacheable request, or no cache
	cacheMiss                    // nothing stored: fetch, store, share with followers
	cacheRevalidate              // a stale entry: validate it with the origin first
)

// cacheState is what an exchange that involves the cache carries: its own
// copy of the request head (parsed again, so views into it live as long as
// the exchange), the key, and the stored validators when revalidating.
type cacheState struct {
	mode       uint8
	stale      cache.Decision // StaleRevalidate or StaleIfError
	key        []byte
	raw        []byte
	creq       codec.Request
	etag       []byte
	lastMod    []byte
	fill       *cache.Writer
	flight     *cache.Flight
	fwd        string // Cache-Status fwd parameter of a forwarded response
	byRequest  bool   // a revalidation of a fresh object the request's directives asked for
	spool      *spool // a disk-only fill of a response too large for memory
	onlyCached bool   // only-if-cached: answer from the disk tier or 504
	reqTime    time.Time
}

// own keeps a copy of the request head and parses it again into creq, so
// that its views live as long as the exchange. A head that parsed once
// parses again; should it not, creq stays empty and the caller gives up
// caching.
func (cs *cacheState) own(head, key []byte, lim *codec.Limits) {
	cs.raw = append([]byte(nil), head...)
	cs.key = append([]byte(nil), key...)
	var p codec.Parser
	if _, err := p.Parse(cs.raw, &cs.creq, lim); err != nil {
		cs.creq = codec.Request{}
	}
}

// fetchCached is roundTrip for an exchange that involves the cache. An
// exchange marked for the loop (fs.onLoop) does here only what needs a
// worker, the disk tier and a follower's wait, and then goes back to its
// loop for the fetch (fill_loop.go); fetchCached then reports true, and the
// loop ends the exchange. The rest (https:// origins, tproxy) runs the same
// fillHandler on this worker through the worker-side origin client
// (fill_worker.go).
func (ex *exchange) fetchCached(w sink) (handed bool) {
	c := ex.s.cache
	defer func() {
		if handed {
			return
		}
		// Every path ends the flight it leads and the fill it started: a
		// flight left open would make later requests for the key wait on it.
		ex.abortFill()
		if ex.flight != nil {
			ex.flight.Cancel()
			ex.flight = nil
		}
	}()
	if ex.mode == cacheMiss && ex.bg != bgPrefetch && ex.serveDisk(w) {
		return false
	}
	if ex.onlyCached {
		ex.replyError(w, ErrOnlyIfCached) // RFC 9111 §5.2.1.7
		return false
	}
	if ex.mode == cacheMiss && ex.flight == nil { // a prefetch has joined already
		f, leader := c.Join(ex.key)
		if !leader {
			if ex.follow(w, f) {
				return false
			}
		} else {
			ex.flight = f
			// A commit may have landed between the loop's miss and Join.
			if ex.serveStored(w, false, "") {
				ex.flight.Cancel()
				ex.flight = nil
				return false
			}
		}
	}
	if ex.fs.onLoop {
		if ex.toLoop() {
			return true
		}
		ex.replyError(w, ErrOverload)
		return false
	}
	dr := ex.fillTarget()
	if dr == nil {
		ex.replyError(w, ErrScheme)
		return false
	}
	ex.fillOnWorker(w, dr) // https://, tproxy (fill_worker.go)
	return false
}

func (ex *exchange) commitFill() {
	if ex.fill != nil {
		if err := ex.fill.Commit(); err != nil {
			ex.s.log.Debug("not stored", "url", ex.url(), "err", err)
		} else if ex.s.disk != nil {
			ex.s.disk.writeBehind(ex.fill)
		}
		ex.fill = nil
	}
	ex.endSpool(true)
}

func (ex *exchange) abortFill() {
	if ex.fill != nil {
		ex.fill.Abort()
		ex.fill = nil
	}
	ex.endSpool(false)
}

// replyError answers an origin failure.
func (ex *exchange) replyError(w sink, err error) {
	if isRefusal(err) {
		ex.refused(w, err)
		return
	}
	ex.answerError(w, err)
}

// refused answers a destination refused once the host was resolved (the
// dialer's check or a dst rule), logged as a refusal like those decided at
// admission (TCP_DENIED/403).
func (ex *exchange) refused(w sink, err error) {
	ex.code = codeDenied
	ex.s.log.Info("request denied", "client", ex.client, "user", ex.user, "rule", err.Error(), "target", ex.target)
	if ex.body != nil && !ex.body.done() {
		ex.close = true // the rest of the body is still on the socket
	}
	ex.answerError(w, err)
}

// answerError writes err's status page.
func (ex *exchange) answerError(w sink, err error) {
	closing := ex.close || ex.s.draining.Load()
	ex.status, _ = statusFor(err)
	to := ex.errorFor()
	ex.ctype = to.ctype()
	w.finish(ex.s.errorResponse(w.buffer(), err, closing, to), nil, nil, closing)
}

// follow answers a miss from another request's fetch of the same object
// while it arrives (collapsed forwarding). It reports false when there is
// nothing to follow: the leader did not store the response, its variant
// differs, or the wait passed timeouts.origin_first_byte; the exchange then
// fetches for itself.
func (ex *exchange) follow(w sink, f *cache.Flight) bool {
	t := time.NewTimer(ex.s.set.origin.firstByte)
	defer t.Stop()
	select {
	case <-f.Ready():
	case <-t.C:
		return false
	}
	fr, err := f.Follow(&ex.creq)
	if err != nil {
		return false
	}
	defer fr.Close() //nolint:errcheck
	framing := frameLength
	size := fr.Size()
	switch {
	case ex.head:
		framing = frameNone
	case size < 0 && ex.minor == 1:
		framing = frameChunked
	case size < 0:
		framing = frameClose
		ex.close = true
	}
	closing := ex.close || ex.s.draining.Load()
	ex.status = fr.Status()
	ex.ctype = string(fieldValue(fr.Header(), "Content-Type"))
	head := appendStoredHead(w.buffer(), fr.Status(), fr.Header(), fr.Age(time.Now()), size, framing,
		ex.s.set.name, "fwd=uri-miss; collapsed", closing)
	if framing == frameNone {
		w.finish(head, nil, nil, closing)
		return true
	}
	ex.pump(w, fr, head, framing, size, closing)
	return true
}

// appendStoredHead is the head of a response taken from a cache writer: the
// stored fields, Age and framing, and the cache reporting of a miss.
func appendStoredHead(dst []byte, status int, block []byte, age time.Duration, size int64, framing int, name, fwd string, close bool) []byte {
	dst = codec.AppendStatusLine(dst, status)
	dst = append(dst, block...)
	dst = codec.AppendHeaderInt(dst, "Age", int64(age.Seconds()))
	switch {
	case framing == frameChunked:
		dst = codec.AppendHeaderString(dst, "Transfer-Encoding", "chunked")
	case size >= 0 && framing != frameClose:
		dst = codec.AppendHeaderInt(dst, "Content-Length", size)
	}
	dst = appendMissReport(dst, name, fwd)
	dst = append(dst, "Via: 1.1 "...)
	dst = append(dst, name...)
	dst = append(dst, "\r\n"...)
	dst = appendConnection(dst, close)
	return append(dst, "\r\n"...)
}

// appendMissReport writes X-Cache and Cache-Status (RFC 9211) for a
// response that was forwarded.
func appendMissReport(dst []byte, name, fwd string) []byte {
	dst = append(dst, "X-Cache: MISS from "...)
	dst = append(dst, name...)
	dst = append(dst, "\r\nCache-Status: "...)
	dst = append(dst, name...)
	dst = append(dst, "; "...)
	dst = append(dst, fwd...)
	return append(dst, "\r\n"...)
}

// serveStored answers from the cache on a worker: after a 304 refreshed the
// entry, for stale-if-error, or when a fill committed just before this miss
// joined. stale allows a stale entry. It reports false when nothing
// suitable is stored.
func (ex *exchange) serveStored(w sink, stale bool, fwd string) bool {
	var (
		head  []byte
		body  []byte
		large *cache.Ref
		plan  hitPlan
		ok    bool
	)
	closing := ex.close || ex.s.draining.Load()
	ex.s.cache.Lookup(ex.key, &ex.creq, time.Now(), func(h cache.Hit, d cache.Decision) {
		if d != cache.Fresh && !stale {
			return
		}
		plan = planHit(&ex.creq, &h, make([]codec.ByteRange, 0, 1))
		if len(plan.ranges) > 1 { // answered whole from a worker
			plan = hitPlan{status: h.Status, length: h.Size}
		}
		head = appendHitHead(w.buffer(), &h, &plan, ex.s.set.name, 0, closing, fwd)
		ex.ctype = string(fieldValue(h.Header, "Content-Type"))
		ok = true
		if plan.noBody {
			return
		}
		start, end := int64(0), h.Size
		if len(plan.ranges) == 1 {
			start, end = plan.ranges[0].Start, plan.ranges[0].End+1
		}
		if h.Large != nil {
			h.Large.Retain()
			large = h.Large
			plan.ranges = []codec.ByteRange{{Start: start, End: end - 1}}
			return
		}
		body = append([]byte(nil), h.Body[start:end]...)
	})
	if !ok {
		return false
	}
	ex.status = plan.status
	if ex.code == "" {
		ex.code = codeMemHit
	}
	if large == nil {
		w.finish(head, body, nil, closing)
		return true
	}
	defer large.Release()
	ex.sendRef(w, large, head, plan.ranges[0].Start, plan.ranges[0].Len(), closing)
	return true
}
