package engine

// Cache fills on a worker (issue 12). A miss or revalidation of an https://
// URL (gnet has no TLS), a tproxy client's (its origin connection leaves
// from the client's own address), and a background refresh of an https://
// object run on a worker through the worker-side origin.Client, which reads
// with the same strict framing as the loop pools: bytes past a response
// never reach another URL's fill. The handler is the loop's fillHandler, so
// the cache logic is one: status handling, the 304 that freshens, the
// Storable/NewWriter/Refused vote, the flight's Publish or Cancel, a commit
// only of a body that ended at its framed end, quick_abort. Only its six
// ways to the client differ (fill_loop.go): the scratch is the exchange's
// own, writes go through the exchange's sink, which waits for the client
// itself (so nothing ever detaches), and the end is the sink's finish. The
// worker's caller (exchange.run, or refresh for a background fetch) then
// ends the exchange as for any worker exchange.

// fillTarget is where a cache exchange that fetchCached runs on its worker
// connects: its origin, or the parent proxy its key hashes to
// (runViaParent).
func (ex *exchange) fillTarget() *directRequest {
	dr := directTarget(&ex.creq, ex.route)
	if dr != nil && ex.s.hasParents() && !ex.route.set {
		dr.hopKey = ex.key
	}
	return dr
}

// fillOnWorker runs a cache exchange's fetch to its end on this worker,
// answering w.
func (ex *exchange) fillOnWorker(w sink, dr *directRequest) {
	ex.fs.w, ex.fs.dr = w, dr
	ex.fetchFill()
}

// fetchOnWorker is fetchFill on a worker: the request head is built from
// the exchange's own copy of the client's (with the stored validators for a
// revalidation), and the exchange runs through the worker-side client,
// callbacks and all, before it returns. A 304 that selected nothing calls it
// again from OnDone for the whole response.
func (ex *exchange) fetchOnWorker() {
	dr := ex.fs.dr
	dr.head = ex.s.appendOriginRequest(dr.head[:0], &ex.creq, ex)
	ex.armFill("", dr.head)
	ex.s.runDirect(&ex.oex, dr, ex.route)
	ex.viaFor(dr)
}

// sendOnWorker is fillSend on a worker: b is copied into the sink's two
// read buffers in turn, so that it need not outlive the call while the
// write is under way. A client that cannot take it gets its connection
// closed (the sink's abort), once: the fill may go on without it.
func (ex *exchange) sendOnWorker(b []byte) error {
	w := ex.fs.w
	for len(b) > 0 {
		buf := w.chunk(ex.fs.wi)
		ex.fs.wi ^= 1
		n := copy(buf[:], b)
		b = b[n:]
		if err := w.write(nil, buf[:n], nil); err != nil {
			w.abort()
			return err
		}
	}
	return nil
}

// endOnWorker is endOnLoop on a worker: a response held whole goes out with
// the end, an error before the head is answered with its status, one after
// it closes the client connection so the truncation shows. A client that
// went away had its connection closed already.
func (ex *exchange) endOnWorker(err error) {
	w := ex.fs.w
	if ex.fs.gone {
		return
	}
	closing := ex.close || ex.s.draining.Load()
	switch {
	case err == nil && ex.hold:
		ex.headSent = true
		w.finish(ex.fs.out, nil, nil, closing)
	case err == nil:
		w.finish(nil, nil, nil, closing)
	case ex.headSent:
		w.abort()
	default:
		ex.replyError(w, err)
	}
}
