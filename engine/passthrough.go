package engine

import (
	"bytes"
	"net"
	"strconv"
	"time"

	"github.com/panjf2000/gnet/v2"

	"edgeproxy/codec"
	"edgeproxy/engine/config"
	"edgeproxy/engine/origin"
)

// Misses the cache takes no part in are fetched on the client's own event
// loop by the origin package: the request is written to a pooled origin
// connection enrolled on this loop and the response relayed from its
// OnTraffic, with no worker and no handoff. A body larger than the client
// watermark, or of unknown length, leaves the loop at its head (the origin
// socket is detached) and is pumped by a worker under TCP flow control, as
// before. Cache fills take the same client (fill_loop.go); TLS origins,
// tproxy and streamed uploads still take the worker path.

// prepareOnLoop decides whether ex runs on the loop: a cache-free miss has
// its origin request built now, from r while r's views are valid; a miss or
// revalidation that involves the cache is marked for fillOnLoop, which builds
// its request from the exchange's own copy of the head (fill_loop.go).
func (cc *clientConn) prepareOnLoop(ex *exchange, r *codec.Request) {
	if !codec.EqualFold(r.Scheme, "http") || r.Chunked || r.ContentLength > int64(cc.s.set.maxBody) {
		return
	}
	if cc.route().from.IsValid() {
		return // tproxy: the origin connection leaves from the client's address (exchange.do)
	}
	switch {
	case ex.mode != cacheNone:
		// A dst rule to decide on the resolved address is decided by a
		// worker first (fillOnLoop).
		ex.fs.onLoop, ex.fs.home = true, cc.l
	case ex.key == nil && ex.recheck == nil:
		// A request with a dst rule to decide on the resolved address
		// takes the worker path, whose roundTrip decides it first.
		cc.s.originRequest(ex, r)
	}
}

// originRequest sets where an exchange run by the origin package goes and
// what it asks: ex.oaddr, the next hop's host:port (an intercepted
// request's original destination, whatever Host says), and ex.ohead, the
// request head built from r. Every loop-native fetch (cache-free misses,
// cache fills, revalidations, background fetches) picks its next hop here
// and nowhere else.
func (s *Server) originRequest(ex *exchange, r *codec.Request) {
	port := r.Port
	if len(port) == 0 {
		port = []byte("80")
	}
	ex.oaddr = string(r.Host) + ":" + string(port)
	if ex.route.set {
		ex.oaddr = ex.route.dst.String()
	}
	if ex.ohead == nil {
		ex.ohead = make([]byte, 0, 512)
	}
	ex.ohead = s.appendOriginRequest(ex.ohead[:0], r, ex)
	ex.hopOnLoop(r)
}

// appendOriginRequest writes the request head bound for the origin
// (RFC 9110 §7.6): origin-form target, HTTP/1.1, Host from the target,
// hop-by-hop fields removed, X-Forwarded-For and Via as configured. It is
// buildRequest's counterpart in bytes. A revalidation (or the whole fetch
// that follows a 304 that selected nothing) replaces the client's
// conditionals and Range with the stored validators (RFC 9111 §4.3.1); a
// prefetch says so in X-Edgeproxy-Prefetch and names no client.
func (s *Server) appendOriginRequest(dst []byte, r *codec.Request, ex *exchange) []byte {
	dst = append(dst, r.Method...)
	dst = append(dst, ' ')
	if len(r.Path) == 0 || r.Path[0] != '/' {
		dst = append(dst, '/')
	}
	dst = append(dst, r.Path...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	if r.Form == codec.FormOrigin {
		// An intercepted request's own copy, parsed again in origin form
		// (a fill's): its Host field is the target's authority.
		return s.appendOriginFields(append(append(dst, r.HostHeader...), "\r\n"...), r, ex)
	}
	dst = append(dst, r.Host...)
	if len(r.Port) > 0 {
		dst = append(dst, ':')
		dst = append(dst, r.Port...)
	}
	return s.appendOriginFields(append(dst, "\r\n"...), r, ex)
}

// appendOriginFields writes the fields of the request head bound for the
// origin after its Host line.
func (s *Server) appendOriginFields(dst []byte, r *codec.Request, ex *exchange) []byte {
	validate := ex.mode == cacheRevalidate || ex.fs.refetch
	prefetch := ex.bg == bgPrefetch
	trace := isTraceOrOptions(r.Method)
	xff := false
	for i := range r.Headers {
		h := &r.Headers[i]
		switch {
		case r.IsHopByHop(h.Name),
			codec.EqualFold(h.Name, "Host"), codec.EqualFold(h.Name, "Content-Length"),
			codec.EqualFold(h.Name, "Expect"):
			continue
		case !s.set.underscores && bytes.IndexByte(h.Name, '_') >= 0:
			continue // underscores_in_headers off, as buildRequest
		case validate && (codec.EqualFold(h.Name, "If-None-Match") || codec.EqualFold(h.Name, "If-Modified-Since") ||
			codec.EqualFold(h.Name, "If-Range") || codec.EqualFold(h.Name, "Range")):
			continue
		case codec.EqualFold(h.Name, "X-Forwarded-For"):
			if prefetch {
				continue
			}
			switch s.set.forwardedFor {
			case config.ForwardedTransparent:
				dst = appendField(dst, h.Name, h.Value)
			case config.ForwardedDelete:
			default:
				xff = true // joined into one line below, with the client
			}
			continue
		case trace && codec.EqualFold(h.Name, "Max-Forwards"):
			if mf, ok := parseMaxForwards(h.Value); ok {
				dst = codec.AppendHeaderInt(dst, "Max-Forwards", int64(mf-1))
				continue
			}
		}
		dst = appendField(dst, h.Name, h.Value)
	}
	if ex.mode == cacheRevalidate {
		if ex.etag != nil {
			dst = append(dst, "If-None-Match: "...)
			dst = append(append(dst, ex.etag...), "\r\n"...)
		}
		if ex.lastMod != nil {
			dst = append(dst, "If-Modified-Since: "...)
			dst = append(append(dst, ex.lastMod...), "\r\n"...)
		}
	}
	switch {
	case prefetch:
		dst = codec.AppendHeaderString(dst, prefetchHeader, "1")
	case s.set.forwardedFor == config.ForwardedOn, s.set.forwardedFor == config.ForwardedOff:
		dst = append(dst, "X-Forwarded-For: "...)
		if xff {
			for i := range r.Headers {
				if h := &r.Headers[i]; codec.EqualFold(h.Name, "X-Forwarded-For") {
					dst = append(dst, h.Value...)
					dst = append(dst, ", "...)
				}
			}
		}
		if s.set.forwardedFor == config.ForwardedOn {
			dst = append(dst, ex.client...)
		} else {
			dst = append(dst, "unknown"...)
		}
		dst = append(dst, "\r\n"...)
	}
	if r.ContentLength >= 0 {
		dst = codec.AppendHeaderInt(dst, "Content-Length", r.ContentLength)
	}
	dst = append(dst, "Via: "...)
	dst = append(dst, viaValue(r.Minor, s.set.name)...)
	return append(dst, "\r\n\r\n"...)
}

// fetchOnLoop starts an exchange prepared by prepareOnLoop.
func (cc *clientConn) fetchOnLoop(ex *exchange) gnet.Action {
	cc.state = stBusy
	cc.s.inflight.Add(1)
	cc.lex = ex
	var body []byte
	if ex.req != nil { // a small body was collected
		body = ex.req.Body()
	}
	ex.oex = origin.Exchange{
		Addr:        ex.oaddr,
		Head:        ex.ohead,
		Body:        body,
		HeadRequest: ex.head,
		Idempotent:  origin.Idempotent([]byte(ex.method)),
		Handler:     ex,
	}
	ex.reqTime = time.Now()
	cc.s.stats.OriginConns().Add(1)
	cc.l.origin.Do(&ex.oex)
	return gnet.None
}

// OnHead relays interim responses to HTTP/1.1 clients (RFC 9110 §15.2: 100
// and 103, never to HTTP/1.0) and writes the final head. A body the client
// may not take at once leaves the loop here.
func (ex *exchange) OnHead(oex *origin.Exchange, r *codec.Response) error {
	cc := ex.cc
	if cc.closed {
		return net.ErrClosed
	}
	if r.Interim() {
		if ex.minor == 1 && (r.Status == 100 || r.Status == 103) {
			out := codec.AppendStatusLine(cc.l.out[:0], r.Status)
			out = appendEndToEnd(out, r)
			cc.l.out = append(out, "\r\n"...)
			_, _ = cc.c.Write(cc.l.out)
		}
		return nil
	}
	ex.status = r.Status
	if a := oex.Peer(); a != nil {
		ex.peer = peerAddr(a)
	}
	ex.ctype = string(r.Header("Content-Type"))
	framing, cl := frameLength, r.ContentLength
	switch {
	case r.Framing == codec.FramingNone:
		framing = frameNone
	case r.Framing != codec.FramingLength && ex.minor == 1:
		framing, cl = frameChunked, -1
	case r.Framing != codec.FramingLength:
		framing, cl = frameClose, -2
		ex.close = true
	}
	closing := ex.close || ex.s.draining.Load()
	if framing != frameNone && (framing != frameLength || cl > watermark) {
		head := appendOriginHead(ex.sink.buffer(), r, ex.s.set.name, framing, closing, ex.report())
		det, err := oex.Detach()
		if err != nil {
			return err
		}
		ex.originDone()
		if err := ex.s.submit(cc.remote, func() { ex.pumpDetached(det, head, framing, cl, closing) }); err != nil {
			_ = det.Close()
			ex.status = 0
			ex.endOnLoop(err)
		}
		return nil
	}
	cc.l.out = appendOriginHead(cc.l.out[:0], r, ex.s.set.name, framing, closing, ex.report())
	if framing == frameLength && int64(oex.Received()) >= cl {
		// The whole body came with the head: both go out in one write,
		// from OnDone, which runs before this read returns.
		ex.hold = true
		return nil
	}
	ex.headSent = true
	return ex.send(cc.l.out)
}

// OnBody relays body bytes of a response small enough for the loop.
func (ex *exchange) OnBody(_ *origin.Exchange, data []byte) error {
	if ex.hold {
		ex.cc.l.out = append(ex.cc.l.out, data...)
		return nil
	}
	return ex.send(data)
}

// OnDone ends an exchange run on the loop.
func (ex *exchange) OnDone(_ *origin.Exchange, err error) {
	if ex.failover(err, ex.cc.l.origin) {
		return
	}
	ex.originDone()
	if err != nil {
		ex.s.log.Debug("origin fetch failed", "url", ex.target, "err", err)
	}
	ex.endOnLoop(err)
}

// send writes b to the client.
func (ex *exchange) send(b []byte) error {
	if ex.cc.closed {
		return net.ErrClosed
	}
	ex.sent += int64(len(b))
	_, err := ex.cc.c.Write(b)
	return err
}

// originDone marks the origin side of an exchange over.
func (ex *exchange) originDone() {
	if ex.cc.lex == ex {
		ex.cc.lex = nil
	}
	ex.s.stats.OriginConns().Add(-1)
	ex.s.stats.ObserveOrigin(time.Since(ex.reqTime))
}

// endOnLoop finishes an exchange on the loop: an error before the head is
// answered with its status; one after it closes the client connection, so
// the truncation shows. Then the connection takes its next request.
func (ex *exchange) endOnLoop(err error) {
	cc := ex.cc
	defer ex.s.inflight.Add(-1)
	defer ex.release()
	defer ex.logDone()
	if cc.closed {
		return
	}
	closing := ex.close || ex.s.draining.Load()
	if ex.hold && err == nil {
		ex.headSent = true
		_ = ex.send(cc.l.out)
	}
	if err != nil {
		if ex.headSent {
			_ = cc.c.Close()
			return
		}
		if isRefusal(err) {
			// The destination check refused the resolved address at dial
			// time: logged as a refusal, like those decided at admission.
			ex.code = codeDenied
			ex.s.log.Info("request denied", "client", ex.client, "user", ex.user, "rule", err.Error(), "target", ex.target)
		}
		ex.status, _ = statusFor(err)
		to := ex.errorFor()
		ex.ctype = to.ctype()
		cc.l.out = ex.s.errorResponse(cc.l.out[:0], err, closing, to)
		_ = ex.send(cc.l.out)
	}
	if closing {
		if cc.closeWhenDrained() == gnet.Close {
			_ = cc.c.Close()
		}
		return
	}
	cc.idle()
	if cc.c.InboundBuffered() > 0 {
		_ = cc.c.Wake(nil) // a pipelined request: parse it in the client's own callback
	}
}

// abandon ends the exchange of a client connection that closed while its
// response was on the way: the origin connection is closed, not reused.
func (ex *exchange) abandon() {
	if ex.fs.onLoop {
		ex.abandonFill()
		return
	}
	ex.oex.Cancel()
	ex.originDone()
	ex.s.inflight.Add(-1)
	ex.release()
	ex.logDone()
}

// pumpDetached relays a body detached from the loop, on a worker.
func (ex *exchange) pumpDetached(det *origin.Detached, head []byte, framing int, cl int64, closing bool) {
	defer ex.s.inflight.Add(-1)
	defer ex.release()
	defer ex.logDone()
	defer det.Close() //nolint:errcheck
	ex.pump(&ex.sink, det, head, framing, cl, closing)
}

// appendOriginHead serialises an origin response head for the client, as
// appendResponseHead does for a fasthttp response: the origin's fields less
// the hop-by-hop ones (RFC 9110 §7.6.1), framing of our own, Via added.
func appendOriginHead(dst []byte, r *codec.Response, name string, framing int, close bool, fwd string) []byte {
	dst = codec.AppendStatusLine(dst, r.Status)
	dst = appendEndToEnd(dst, r)
	if r.Header("Date") == nil {
		// A recipient with a clock adds Date when the origin sent none
		// (RFC 9110 §6.6.1).
		dst = append(dst, "Date: "...)
		dst = codec.AppendHTTPDate(dst, time.Now())
		dst = append(dst, "\r\n"...)
	}
	switch framing {
	case frameLength:
		dst = codec.AppendHeaderInt(dst, "Content-Length", r.ContentLength)
	case frameChunked:
		dst = codec.AppendHeaderString(dst, "Transfer-Encoding", "chunked")
	case frameNone:
		if r.ContentLength >= 0 && r.Status != 204 && r.Status >= 200 {
			// HEAD and 304 carry the length of the body they describe.
			dst = codec.AppendHeaderInt(dst, "Content-Length", r.ContentLength)
		}
	}
	dst = append(dst, "Via: 1."...)
	dst = strconv.AppendUint(dst, uint64(r.Minor), 10)
	dst = append(dst, ' ')
	dst = append(dst, name...)
	dst = append(dst, "\r\n"...)
	dst = appendMissReport(dst, name, fwd)
	dst = appendConnection(dst, close)
	return append(dst, "\r\n"...)
}

// appendEndToEnd appends r's fields less the hop-by-hop ones, those its
// Connection field lists, and Content-Length, which the caller writes.
func appendEndToEnd(dst []byte, r *codec.Response) []byte {
	for i := range r.Headers {
		h := &r.Headers[i]
		if codec.IsHopByHop(h.Name) || codec.EqualFold(h.Name, "Content-Length") || r.HasTokenBytes("Connection", h.Name) {
			continue
		}
		dst = appendField(dst, h.Name, h.Value)
	}
	return dst
}
