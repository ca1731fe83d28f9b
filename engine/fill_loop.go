package engine

import (
	"context"
	"errors"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/panjf2000/gnet/v2"

	"edgeproxy/cache"
	"edgeproxy/codec"
	"edgeproxy/engine/origin"
)

// Cache fills on the event loop (issue 12). A client's miss or revalidation
// of an http URL, and every background fetch (stale-while-revalidate,
// refresh-ahead, prefetch), is one origin.Exchange on a loop's origin pool,
// read with the project's strict codec: the connection cannot be desynced,
// so nothing an origin sends past a response reaches another URL's fill.
//
// The response head arrives in fillHandler.OnHead, which does what
// fetchCached does for a fasthttp response: a 5xx or an error yields to a
// stale entry under stale-if-error, a 304 freshens the stored response, a
// storable one gets a cache Writer (admission votes on its head) that the
// flight shares with followers. A body of a known length up to the client
// watermark stays on the loop: OnBody feeds the Writer and the client, and
// OnDone commits only a body that ended at its framed end. Any other body
// (larger, chunked, delimited by close, or spooled to disk) leaves the loop
// at its head, detached, and is pumped by a worker under TCP flow control
// as before, so a slow client costs no memory. What needs a worker before
// the fetch (the disk tier, a follower's wait, a deferred dst rule) runs
// there first and comes back with EventLoop.Execute; answers from the cache
// after the fetch (a freshened 304, stale-if-error) go to a worker too.
//
// The handler reaches the client only through fillBuf, fillKeep, fillKept,
// fillSend, fillBehind and endFill (the loop's connection, below), and
// leaves the loop only through detachFill and onWorker. On a worker
// (https:// origins, tproxy: fill_worker.go) those write through the
// exchange's sink, which waits for the client itself, so fillBehind is
// false and nothing detaches, and the end is the sink's finish.

// fillState is what a cache exchange run by the origin package carries.
type fillState struct {
	onLoop  bool      // the fetch runs on home's origin pool
	home    *loop     // the loop that runs it
	refetch bool      // fetching whole after a 304 that selected nothing
	gone    bool      // the client went away; the fill may go on without it
	got     int64     // body bytes received
	cl      int64     // the body's declared length, -1 when unknown
	after   uint8     // what OnDone does once the origin side is over
	framing int       // the body's framing towards the client
	closing bool      // the client connection ends after the response
	null    *nullSink // a background fetch's client: counts and charges the bytes
	bgEnd   func()    // a background fetch's end, run once when all is over

	// Set when the handler runs on a worker (fill_worker.go).
	w   sink           // the client's sink (a background fetch's null sink)
	dr  *directRequest // where the worker-side client connects
	out []byte         // the worker's scratch, as loop.out is the loop's
	wi  int            // the sink read buffer the next copy goes into
}

// What a fill does once its origin exchange is over, besides ending.
const (
	afterEnd     uint8 = iota // nothing more
	afterStored               // a 304 freshened the entry: serve it
	afterStale                // stale-if-error: serve the stale entry
	afterRefetch              // a 304 selected nothing: fetch the whole response
)

// fillHandler is the origin.Handler of a cache exchange.
type fillHandler struct{ ex *exchange }

// noHit is a lookup callback that only asks for the decision.
var noHit = func(cache.Hit, cache.Decision) {}

// fillOnLoop starts a client's cache exchange that prepareOnLoop marked for
// the loop. It reports false when a worker must look first (the disk tier,
// only-if-cached, a collapsed miss to follow, a dst rule on the resolved
// address); the worker's fetchCached hands the fetch back with toLoop.
func (cc *clientConn) fillOnLoop(ex *exchange) bool {
	s := cc.s
	if ex.recheck != nil || ex.onlyCached || (ex.mode == cacheMiss && s.disk != nil) {
		return false
	}
	if ex.mode == cacheMiss {
		// A fill that committed between this loop's lookup and Join (a
		// window of a few instructions on this goroutine) costs one more
		// fetch, not a second lookup of every miss.
		f, leader := s.cache.Join(ex.key)
		if !leader {
			return false
		}
		ex.flight = f
	}
	cc.state = stBusy
	s.inflight.Add(1)
	ex.fetchFill()
	return true
}

// toLoop hands a client's fetch from its worker to the loop, where
// fetchFill runs it; false when the loop is gone.
func (ex *exchange) toLoop() bool {
	err := ex.fs.home.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		ex.fetchFill()
		return nil
	}))
	return err == nil
}

// fetchFill sends the exchange's request on its loop's origin pool.
func (ex *exchange) fetchFill() {
	if ex.fs.dr != nil {
		ex.fetchOnWorker()
		return
	}
	if cc := ex.cc; cc != nil {
		if cc.closed {
			ex.fs.gone = true
		} else {
			cc.lex = ex
		}
	}
	ex.s.originRequest(ex, &ex.creq)
	ex.armFill(ex.oaddr, ex.ohead)
	ex.fs.home.origin.Do(&ex.oex)
}

// armFill readies the origin exchange of a fill, on the loop or on a
// worker: head goes to addr ("" on a worker, which dials for itself) and
// the answer comes to the fill handler.
func (ex *exchange) armFill(addr string, head []byte) {
	ex.headSent, ex.hold, ex.fs.got, ex.fs.after = false, false, 0, afterEnd
	ex.oex = origin.Exchange{
		Addr:        addr,
		Head:        head,
		HeadRequest: ex.head,
		Idempotent:  true, // GET or HEAD
		Handler:     &ex.fh,
	}
	ex.fh.ex = ex
	ex.reqTime = time.Now()
	ex.s.stats.OriginConns().Add(1)
}

// OnHead takes the response head as fetchCached takes a fasthttp response.
func (h *fillHandler) OnHead(oex *origin.Exchange, r *codec.Response) error {
	ex := h.ex
	if r.Interim() {
		if ex.bg == bgNone && !ex.fs.gone && ex.minor == 1 && (r.Status == 100 || r.Status == 103) {
			out := codec.AppendStatusLine(ex.fillBuf(), r.Status)
			out = appendEndToEnd(out, r)
			out = ex.fillKeep(append(out, "\r\n"...))
			_ = ex.fillSend(out)
		}
		return nil
	}
	c := ex.s.cache
	ex.status = r.Status
	if a := oex.Peer(); a != nil {
		ex.peer = peerAddr(a)
	}
	switch {
	case r.Status >= 500:
		ex.endFlight()
		if ex.staleIfError() {
			return errFillStale // RFC 5861 §4: the stale response stands in for the error
		}
	case ex.mode == cacheRevalidate && r.Status == 304:
		m := ex.metaOf(r)
		freshened := c.Freshen(ex.key, &ex.creq, &m)
		switch {
		case freshened && ex.bg != bgNone:
			ex.code = codeRefreshUnmodified // no client to answer
		case freshened:
			ex.fs.after = afterStored
		case ex.bg == bgNone:
			// The 304 did not select the stored response (RFC 9111
			// §4.3.3), or the entry went away meanwhile: fetch it whole.
			ex.fs.after = afterRefetch
		}
		return nil // a 304 has no body: OnDone follows
	}
	if ex.mode == cacheRevalidate {
		ex.code = codeRefreshModified
	}
	cl := r.ContentLength
	if r.Framing != codec.FramingLength {
		cl = -1
	}
	ex.fs.cl = cl
	share := true
	if ex.bg == bgPrefetch {
		// As fetchCached: a body over prefetch.max_object is not read at
		// all, and one of unknown length is not shared.
		if cl > ex.s.pf.maxObject || r.Status >= 300 {
			return errFillSkip
		}
		share = cl >= 0
	}
	if ex.mode != cacheNone && !ex.head {
		m := ex.metaOf(r)
		m.Prefetch = ex.bg == bgPrefetch
		storable := c.Storable(&ex.creq, &m)
		if storable {
			ex.fill = c.NewWriter(ex.key, &ex.creq, &m)
			if err := ex.fill.Refused(); err != nil {
				ex.s.log.Debug("not stored", "url", ex.target, "err", err)
				ex.fill.Abort()
				ex.fill = nil
			}
		}
		ex.startSpool(&m)
		if ex.fill == nil && ex.spool == nil && ex.mode == cacheMiss && ex.bg == bgNone && !storable &&
			ex.fs.home != nil && r.Status == 200 && len(ex.creq.Header("Range")) == 0 {
			// Only a whole 200 says the URL is uncacheable: a 206 to a
			// Range request, or any other status, says nothing of the next
			// plain GET's response. (A fill on a worker has no loop.)
			ex.fs.home.pass.add(xxhash.Sum64(ex.key), ex.s.now())
		}
	}
	if ex.flight != nil {
		if ex.fill != nil && share {
			ex.flight.Publish(ex.fill)
		} else {
			ex.flight.Cancel()
		}
		ex.flight = nil
	}
	if ex.fs.gone && !ex.keepFilling(0, cl) {
		return errFillGone
	}
	ex.ctype = string(r.Header("Content-Type"))
	framing := frameLength
	switch {
	case r.Framing == codec.FramingNone:
		framing = frameNone
	case r.Framing != codec.FramingLength && ex.minor == 1:
		framing = frameChunked
	case r.Framing != codec.FramingLength:
		framing = frameClose
		ex.close = true
	}
	closing := ex.close || ex.s.draining.Load()
	ex.fs.framing, ex.fs.closing = framing, closing
	if ex.spool != nil && ex.fs.w == nil {
		return ex.detachFill(oex, r) // the disk spool may wait for the disk
	}
	if ex.bg != bgNone || ex.fs.gone {
		return nil
	}
	out := ex.fillKeep(appendOriginHead(ex.fillBuf(), r, ex.s.set.name, framing, closing, ex.report()))
	if framing == frameLength && int64(oex.Received()) >= cl {
		// The whole body came with the head: both go out in one write,
		// from OnDone, which runs before this read returns.
		ex.hold = true
		return nil
	}
	ex.headSent = true
	if err := ex.fillSend(out); err != nil {
		return ex.clientGone(err)
	}
	return nil
}

// detachFill hands the rest of a body the loop should not carry to a
// worker, which pumps it into the fill and to the client (or the null sink)
// under TCP flow control: from OnHead when r is the head to send first, or
// from OnBody once the client has fallen behind (r nil).
func (ex *exchange) detachFill(oex *origin.Exchange, r *codec.Response) error {
	var head []byte
	w := ex.fillSink()
	framing, cl, closing := ex.fs.framing, ex.fs.cl, ex.fs.closing
	if r != nil && ex.bg == bgNone {
		head = appendOriginHead(w.buffer(), r, ex.s.set.name, framing, closing, ex.report())
	}
	if cl >= 0 {
		cl -= ex.fs.got // what pump has yet to read
	}
	det, err := oex.Detach()
	if err != nil {
		return err
	}
	ex.fillOriginDone()
	if err := ex.submitWorker(func() {
		defer det.Close() //nolint:errcheck
		ex.pump(w, det, head, framing, cl, closing)
		ex.abortFill() // a no-op once pump committed it
		ex.endSpool(false)
		ex.endWorker()
	}); err != nil {
		_ = det.Close()
		ex.abortFill()
		ex.endSpool(false)
		if r != nil {
			ex.status = 0
		}
		ex.endFill(err)
	}
	return nil
}

// OnBody feeds the fill and the client with the body. It stays on the loop
// while the client keeps up; once more than watermark bytes wait for the
// client, the rest leaves the loop (detachFill), since gnet cannot stop
// reading the origin.
func (h *fillHandler) OnBody(oex *origin.Exchange, data []byte) error {
	ex := h.ex
	ex.fs.got += int64(len(data))
	if ex.fill != nil {
		if _, err := ex.fill.Write(data); err != nil {
			ex.abortFill()
		}
	}
	if ex.spool != nil { // only on a worker: the loop detaches a spooled body
		ex.spool.write(data)
	}
	switch {
	case ex.bg != bgNone:
		if ex.fill == nil {
			return errFillGone // nothing wants the rest
		}
		if err := ex.fs.null.write(nil, data, nil); err != nil {
			return errFillGone // over prefetch.max_object
		}
		return nil
	case ex.fs.gone:
		if !ex.keepFilling(ex.fs.got, ex.fs.cl) {
			return errFillGone
		}
		return nil
	case ex.hold:
		ex.fillKeep(append(ex.fillKept(), data...))
		return nil
	}
	var err error
	if ex.fs.framing == frameChunked {
		out := codec.AppendChunkHeader(ex.fillBuf(), len(data))
		err = ex.fillSend(ex.fillKeep(append(append(out, data...), crlf...)))
	} else {
		err = ex.fillSend(data)
	}
	if err != nil {
		return ex.clientGone(err)
	}
	if ex.fillBehind() && (ex.fs.cl < 0 || ex.fs.got < ex.fs.cl) {
		return ex.detachFill(oex, nil)
	}
	return nil
}

// clientGone notes that the client cannot take more: the fill goes on while
// followers or quick_abort want it, else err ends the exchange.
func (ex *exchange) clientGone(err error) error {
	ex.fs.gone = true
	if ex.keepFilling(ex.fs.got, ex.fs.cl) {
		return nil
	}
	return errors.Join(errFillGone, err)
}

// OnDone commits a body that ended at its framed end, and nothing else,
// then answers what is left to answer.
func (h *fillHandler) OnDone(_ *origin.Exchange, err error) {
	ex := h.ex
	if ex.fs.home != nil && ex.failover(err, ex.fs.home.origin) {
		return // the parent could not be reached: the next one is asked (hop.go)
	}
	ex.fillOriginDone()
	if err == nil {
		ex.commitFill()
	} else {
		ex.abortFill()
	}
	ex.endFlight()
	switch {
	case errors.Is(err, errFillSkip), errors.Is(err, errFillGone):
		err = nil
	case errors.Is(err, errFillStale):
		err, ex.fs.after = nil, afterStale
	case err != nil && ex.status == 0 && !isRefusal(err) && ex.staleIfError():
		ex.fs.after = afterStale
	case err != nil:
		ex.s.log.Debug("origin fetch failed", "url", ex.target, "err", err)
	}
	switch ex.fs.after {
	case afterStored:
		ex.onWorker(func(w sink) bool {
			if ex.serveStored(w, true, ex.revalidation()+"; fwd-status=304") {
				ex.code = codeRefreshUnmodified
				return false
			}
			return ex.refetchWhole(w)
		})
	case afterStale:
		ex.onWorker(func(w sink) bool {
			if ex.serveStored(w, true, "fwd=stale") {
				ex.code = codeRefreshFailOld
			} else {
				ex.answerError(w, origin.ErrClosed)
			}
			return false
		})
	case afterRefetch:
		ex.mode, ex.fs.refetch, ex.status = cacheNone, true, 0
		ex.fetchFill()
	default:
		if err == nil && ex.headSent && ex.fs.framing == frameChunked && !ex.fs.gone {
			_ = ex.fillSend(lastChunk)
		}
		ex.endFill(err)
	}
}

// refetchWhole, on a worker, sends the exchange back to its loop for the
// whole response; it reports whether the loop took it.
func (ex *exchange) refetchWhole(w sink) bool {
	ex.mode, ex.fs.refetch, ex.status = cacheNone, true, 0
	if ex.fs.dr != nil {
		ex.fetchFill() // on this worker, to its end
		return true
	}
	if ex.toLoop() {
		return true
	}
	ex.answerError(w, ErrOverload)
	return false
}

// submitWorker runs job on a worker, within the client's share of them.
func (ex *exchange) submitWorker(job func()) error {
	if ex.bg != bgNone {
		return ex.s.pool.Submit(job)
	}
	return ex.s.submit(ex.cc.remote, job)
}

// onWorker runs f on a worker with the client's sink; f answers the client
// and reports whether it handed the exchange back to the loop.
func (ex *exchange) onWorker(f func(w sink) bool) {
	if ex.fs.gone {
		ex.endFill(nil)
		return
	}
	if ex.fs.w != nil {
		f(ex.fs.w) // already there; its caller ends the exchange
		return
	}
	if err := ex.submitWorker(func() {
		if !f(&ex.sink) {
			ex.endWorker()
		}
	}); err != nil {
		ex.endFill(err)
	}
}

// staleIfError reports whether a stale entry may stand in for an origin
// failure (RFC 5861 §4), and one is stored.
func (ex *exchange) staleIfError() bool {
	return ex.mode == cacheRevalidate && ex.stale == cache.StaleIfError && ex.bg == bgNone &&
		ex.s.cache.Lookup(ex.key, &ex.creq, time.Now(), noHit) != cache.Miss
}

// endFlight ends a flight the exchange still leads, so that later requests
// for the key do not wait on it.
func (ex *exchange) endFlight() {
	if ex.flight != nil {
		ex.flight.Cancel()
		ex.flight = nil
	}
}

// metaOf describes an origin response for the cache. Its views live as long
// as r's.
func (ex *exchange) metaOf(r *codec.Response) cache.Meta {
	m := cache.Meta{
		Status:        r.Status,
		Header:        r.Headers,
		RequestTime:   ex.reqTime,
		ResponseTime:  time.Now(),
		ContentLength: r.ContentLength,
	}
	if r.Framing != codec.FramingLength && r.Framing != codec.FramingNone {
		m.ContentLength = -1
	}
	return m
}

// fillBuf returns the loop's empty scratch buffer for what goes to the
// client; fillKeep keeps b (built on it) as the scratch and returns it, and
// fillKept returns what was kept. The scratch lives until the loop's next
// callback. On a worker (fill_worker.go) the scratch is the exchange's own.
func (ex *exchange) fillBuf() []byte {
	if ex.fs.w != nil {
		return ex.fs.out[:0]
	}
	return ex.cc.l.out[:0]
}

func (ex *exchange) fillKeep(b []byte) []byte {
	if ex.fs.w != nil {
		ex.fs.out = b
		return b
	}
	ex.cc.l.out = b
	return b
}

func (ex *exchange) fillKept() []byte {
	if ex.fs.w != nil {
		return ex.fs.out
	}
	return ex.cc.l.out
}

// fillSend writes b to the client; b need not outlive the call.
func (ex *exchange) fillSend(b []byte) error {
	if ex.fs.w != nil {
		return ex.sendOnWorker(b)
	}
	return ex.send(b)
}

// fillBehind reports whether more than watermark bytes wait for the client.
// A worker's sink waits for the client itself: never.
func (ex *exchange) fillBehind() bool {
	return ex.fs.w == nil && ex.cc.c.OutboundBuffered() > watermark
}

// fillSink is where a worker writes the rest of the response.
func (ex *exchange) fillSink() sink {
	if ex.bg != bgNone {
		return ex.fs.null
	}
	return &ex.sink
}

// fillOriginDone marks the origin side of a fill over.
func (ex *exchange) fillOriginDone() {
	if ex.fs.w == nil && ex.cc != nil && ex.cc.lex == ex { // cc.lex is the loop's
		ex.cc.lex = nil
	}
	ex.s.stats.OriginConns().Add(-1)
	ex.s.stats.ObserveOrigin(time.Since(ex.reqTime))
}

// endFill ends a fill on the loop: a client's exchange as endOnLoop ends
// one (err answered, or the truncation shown), a background one by its hook.
func (ex *exchange) endFill(err error) {
	if ex.bg != bgNone {
		ex.fs.bgEnd()
		return
	}
	if ex.fs.w != nil {
		ex.endOnWorker(err)
		return
	}
	ex.endOnLoop(err)
}

// endWorker ends a fill whose last part ran on a worker, which answered
// the client through its sink.
func (ex *exchange) endWorker() {
	if ex.bg != bgNone {
		ex.fs.bgEnd()
		return
	}
	ex.s.inflight.Add(-1)
	ex.release()
	ex.logDone()
}

// abandonFill is abandon for a fill: the client closed, but the fetch goes
// on while its fill is followed or quick_abort keeps it, and ends by itself.
func (ex *exchange) abandonFill() {
	ex.fs.gone = true
	ex.cc.lex = nil
}

// startBackground runs a background fetch (ex.bg set, its flight joined,
// its head owned) on loop l, from l's goroutine. end runs once when it is
// over, on the loop or a worker.
func (s *Server) startBackground(l *loop, ex *exchange, null *nullSink, end func()) {
	ex.fs.onLoop, ex.fs.home, ex.fs.null = true, l, null
	ex.fs.bgEnd = func() {
		ex.abortFill()
		ex.endFlight()
		end()
		s.inflight.Add(-1)
	}
	s.inflight.Add(1)
	ex.fetchFill()
}
