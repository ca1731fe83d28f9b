package engine

import (
	"bytes"
	"strconv"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/fasthttp"

	"edgeproxy/cache"
	"edgeproxy/codec"
	"edgeproxy/engine/config"
)

// forward handles an absolute-form request: refusals first, then the
// request is copied into an exchange and its body, if any, collected or
// streamed.
func (cc *clientConn) forward(r *codec.Request, n int, buf []byte) gnet.Action {
	kind := schemeOf(r.Scheme)
	if kind == schemeOther {
		return cc.refuse(r, n, ErrScheme)
	}
	if cc.s.looped(r) {
		return cc.refuse(r, n, ErrForwardLoop)
	}
	if isTraceOrOptions(r.Method) {
		if mf, ok := maxForwards(r); ok && mf == 0 {
			return cc.answerMaxForwards(r, n, buf)
		}
	}
	if string(r.Method) == "PURGE" {
		return cc.purge(r, n)
	}
	if kind != schemeHTTP {
		return cc.forwardScheme(r, n, buf, kind)
	}
	hop, err := cc.nextHop(r)
	if err != nil {
		return cc.refuse(r, n, err)
	}
	c := cc.cache()
	if hop.toPeer() {
		c = nil // the owner looks it up and stores it; this node does neither
	}
	lookedUp := c != nil && (string(r.Method) == "GET" || string(r.Method) == "HEAD") && !r.HasBody()
	var d cache.Decision
	if lookedUp {
		act, done, decision := cc.lookup(r, n, buf)
		if done {
			return act
		}
		d = decision
	}
	ex := cc.s.newExchange(cc, r)
	ex.lookedUp = lookedUp
	ex.hop = hop
	if c != nil {
		cc.prepareCache(ex, r, n, buf, lookedUp, d)
	}
	cc.prepareOnLoop(ex, r)
	cc.prepareDirect(ex, r)
	if !ex.fs.onLoop && (ex.ohead == nil || r.HasBody()) {
		// A fetch on the loop sends ex.ohead; it needs the fasthttp request
		// only to collect a small body in.
		ex.buildRequest(r)
	}
	return cc.start(ex, r, n, buf)
}

// start sends ex on its way once its request head, the first n bytes of
// buf, is parsed: at once when it has no body, after its body when that is
// small enough to buffer, or through a detached upload otherwise.
func (cc *clientConn) start(ex *exchange, r *codec.Request, n int, buf []byte) gnet.Action {
	switch {
	case !r.HasBody():
		_, _ = cc.c.Discard(n)
		return cc.dispatch(ex)
	case !r.Chunked && r.ContentLength <= int64(cc.s.set.maxBody):
		_, _ = cc.c.Discard(n)
		cc.body, cc.left = ex, int(r.ContentLength)
		cc.state, cc.since = stBody, cc.s.now()
		if r.Expect100 && len(buf)-n < cc.left {
			_, _ = cc.c.Write(continue100)
		}
		return cc.readBody()
	default:
		return cc.detachUpload(ex, r, n, buf)
	}
}

// prepareCache tells an exchange what the cache holds for its request: a
// miss to fill, a stale entry to revalidate, or, for an unsafe method, the
// key to invalidate once the origin has answered.
func (cc *clientConn) prepareCache(ex *exchange, r *codec.Request, n int, buf []byte, lookedUp bool, d cache.Decision) {
	hs := &cc.l.hit
	switch {
	case lookedUp && d == cache.Miss:
		if cc.l.pass.has(xxhash.Sum64(hs.key), cc.s.now()) {
			return // known uncacheable: a pass, with no flight to join (pass.go)
		}
		ex.mode = cacheMiss
	case lookedUp && d == cache.OnlyIfCachedMiss: // the disk tier may hold it
		ex.mode, ex.onlyCached = cacheMiss, true
	case lookedUp && (d == cache.StaleRevalidate || d == cache.StaleIfError):
		ex.mode, ex.stale, ex.byRequest = cacheRevalidate, d, hs.byRequest
		ex.etag, ex.lastMod = nonEmpty(hs.etag), nonEmpty(hs.lastMod)
	case isUnsafe(r.Method):
		hs.key = cache.AppendKey(hs.key[:0], r)
	default:
		return
	}
	ex.own(buf[:n], hs.key, &cc.s.set.limits)
	if ex.creq.Method == nil {
		ex.mode, ex.key = cacheNone, nil
	}
}

// isUnsafe reports whether a non-error response to method m invalidates
// the stored responses for its target (RFC 9111 §4.4). Every method not
// known to be safe does, whatever its name (M-SEARCH, PROPPATCH, an
// extension): the safe ones are RFC 9110 §9.2.1's GET, HEAD, OPTIONS and
// TRACE and those the IANA method registry marks safe (PROPFIND, REPORT,
// SEARCH, QUERY). Methods are case-sensitive (RFC 9110 §9.1).
func isUnsafe(m []byte) bool {
	switch string(m) {
	case "GET", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "REPORT", "SEARCH", "QUERY":
		return false
	}
	return true
}

// continue100 is the interim response a proxy may send itself for
// Expect: 100-continue (RFC 9110 §10.1.1); the expectation is not forwarded.
var continue100 = []byte("HTTP/1.1 100 Continue\r\n\r\n")

// readBody copies the body bytes that have arrived into the pending
// request and dispatches it once the body is whole.
func (cc *clientConn) readBody() gnet.Action {
	buf, _ := cc.c.Peek(-1)
	take := min(len(buf), cc.left)
	cc.body.req.AppendBody(buf[:take])
	_, _ = cc.c.Discard(take)
	cc.left -= take
	if cc.left > 0 {
		return gnet.None
	}
	ex := cc.body
	cc.body = nil
	return cc.dispatch(ex)
}

// dispatch hands an exchange to the worker pool, or answers 503 at once
// when the pool is full.
func (cc *clientConn) dispatch(ex *exchange) gnet.Action {
	if ex.ohead != nil {
		return cc.fetchOnLoop(ex)
	}
	if ex.fs.onLoop && cc.fillOnLoop(ex) {
		return gnet.None
	}
	cc.state = stBusy
	cc.s.inflight.Add(1)
	if err := cc.s.submit(cc.remote, ex.run); err != nil {
		cc.s.inflight.Add(-1)
		ex.release()
		if ex.large != nil { // a tier-L hit's reference, which run would have released
			ex.large.Release()
			ex.large = nil
		}
		to := ex.errorFor()
		cc.l.out = cc.s.errorResponse(cc.l.out[:0], err, ex.close, to)
		ex.status, _ = statusFor(err)
		ex.code, ex.sent, ex.ctype = codeNone, int64(len(cc.l.out)), to.ctype()
		ex.logDone()
		_, _ = cc.c.Write(cc.l.out)
		if ex.close {
			_, _ = cc.c.Discard(-1)
			return gnet.Close
		}
		cc.idle()
		return gnet.None
	}
	return gnet.None
}

// newExchange copies what outlives the parse buffer into a new exchange;
// the caller adds the fasthttp request bound for the origin (buildRequest)
// when a worker fetches it or a body must be collected.
func (s *Server) newExchange(cc *clientConn, r *codec.Request) *exchange {
	ex := &exchange{
		s:     s,
		cc:    cc,
		c:     cc.c,
		minor: r.Minor,
		head:  string(r.Method) == "HEAD",
		close: r.Close || r.Minor == 0, // no persistent connection with HTTP/1.0 clients (RFC 9112 §9.3)
		start: time.Now(),
	}
	ex.client = cc.remote.String()
	ex.user = cc.user
	ex.method = string(r.Method)
	ex.target = string(r.Target)
	ex.referer = string(r.Header("Referer"))
	ex.agent = string(r.Header("User-Agent"))
	ex.html = acceptsHTML(r.Header("Accept"))
	ex.sink.init(cc.c, ex)
	ex.recheck = cc.newRecheck(r)
	ex.route = cc.route()
	return ex
}

// buildRequest copies r into a pooled fasthttp request bound for the origin.
func (ex *exchange) buildRequest(r *codec.Request) {
	s := ex.s
	req := fasthttp.AcquireRequest()
	ex.req = req
	req.Header.DisableNormalizing()
	req.Header.SetNoDefaultContentType(true)
	req.SetRequestURIBytes(r.Target)
	req.Header.SetMethodBytes(r.Method)

	trace := isTraceOrOptions(r.Method)
	var xff []byte
	for i := range r.Headers {
		h := &r.Headers[i]
		switch {
		case r.IsHopByHop(h.Name),
			codec.EqualFold(h.Name, "Host"), codec.EqualFold(h.Name, "Content-Length"),
			codec.EqualFold(h.Name, "Expect"):
			continue
		case !s.set.underscores && bytes.IndexByte(h.Name, '_') >= 0:
			// underscores_in_headers off, as nginx: a backend that maps "_"
			// and "-" alike would take X_Forwarded_User for X-Forwarded-User.
			continue
		case codec.EqualFold(h.Name, "X-Forwarded-For"):
			if s.set.forwardedFor == config.ForwardedTransparent {
				req.Header.AddBytesKV(h.Name, h.Value)
			} else if s.set.forwardedFor != config.ForwardedDelete {
				if len(xff) > 0 {
					xff = append(xff, ", "...)
				}
				xff = append(xff, h.Value...)
			}
			continue
		case trace && codec.EqualFold(h.Name, "Max-Forwards"):
			if mf, ok := parseMaxForwards(h.Value); ok {
				req.Header.Set("Max-Forwards", strconv.Itoa(mf-1))
				continue
			}
		}
		req.Header.AddBytesKV(h.Name, h.Value)
	}
	switch s.set.forwardedFor {
	case config.ForwardedOn, config.ForwardedOff:
		if len(xff) > 0 {
			xff = append(xff, ", "...)
		}
		if s.set.forwardedFor == config.ForwardedOn {
			xff = append(xff, ex.client...)
		} else {
			xff = append(xff, "unknown"...)
		}
		req.Header.SetBytesV("X-Forwarded-For", xff)
	}
	req.Header.Add("Via", viaValue(r.Minor, s.set.name))
}

// viaValue is this proxy's Via member for a message received as HTTP/1.minor.
func viaValue(minor uint8, name string) string {
	if minor == 0 {
		return "1.0 " + name
	}
	return "1.1 " + name
}

// looped reports whether a Via field of r already lists this proxy's name
// (RFC 9110 §7.6.3): the request came back through us.
func (s *Server) looped(r *codec.Request) bool {
	return viaReceivedBy(r, func(by []byte) bool { return codec.EqualFold(by, s.set.name) })
}

// viaReceivedBy reports whether match holds for the received-by of a member
// of a Via field of r.
func viaReceivedBy(r *codec.Request, match func(by []byte) bool) bool {
	for i := range r.Headers {
		h := &r.Headers[i]
		if !codec.EqualFold(h.Name, "Via") {
			continue
		}
		for m, rest := codec.NextListMember(h.Value); m != nil; m, rest = codec.NextListMember(rest) {
			// member = received-protocol RWS received-by [ RWS comment ]
			sp := 0
			for sp < len(m) && m[sp] != ' ' && m[sp] != '\t' {
				sp++
			}
			by := codec.TrimOWS(m[sp:])
			end := 0
			for end < len(by) && by[end] != ' ' && by[end] != '\t' {
				end++
			}
			if match(by[:end]) {
				return true
			}
		}
	}
	return false
}

func isTraceOrOptions(m []byte) bool {
	return string(m) == "TRACE" || string(m) == "OPTIONS"
}

// maxForwards returns the request's Max-Forwards value (RFC 9110 §7.6.2).
func maxForwards(r *codec.Request) (int, bool) {
	v := r.Header("Max-Forwards")
	if v == nil {
		return 0, false
	}
	return parseMaxForwards(v)
}

func parseMaxForwards(v []byte) (int, bool) { return parseDecimal(v, 9) }

// parseDecimal parses 1 to maxDigits decimal digits.
func parseDecimal(b []byte, maxDigits int) (int, bool) {
	if len(b) == 0 || len(b) > maxDigits {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// answerMaxForwards answers a TRACE or OPTIONS whose Max-Forwards is zero:
// this proxy is its final recipient (RFC 9110 §7.6.2). TRACE reflects the
// request head as received, less the fields that carry credentials
// (RFC 9110 §9.3.8).
func (cc *clientConn) answerMaxForwards(r *codec.Request, n int, buf []byte) gnet.Action {
	out := cc.l.out[:0]
	if string(r.Method) == "OPTIONS" {
		out = codec.AppendStatusLine(out, 200)
		out = codec.AppendHeaderString(out, "Allow", "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE, CONNECT")
		out = codec.AppendHeaderString(out, "Content-Length", "0")
	} else {
		body := reflectedTrace(r, nil, buf[:n])
		out = codec.AppendStatusLine(out, 200)
		out = codec.AppendHeaderString(out, "Content-Type", "message/http")
		out = codec.AppendHeaderInt(out, "Content-Length", int64(len(body)))
		out = appendConnection(out, r.Close || r.Minor == 0)
		out = append(out, "\r\n"...)
		out = append(out, body...)
		cc.l.out = out
		return cc.writeLocal(r, n, out)
	}
	out = appendConnection(out, r.Close || r.Minor == 0)
	out = append(out, "\r\n"...)
	cc.l.out = out
	return cc.writeLocal(r, n, out)
}

// reflectedTrace rebuilds the request head for a TRACE echo without the
// fields that carry credentials or cookies.
func reflectedTrace(r *codec.Request, dst, head []byte) []byte {
	line := 0
	for line < len(head) && head[line] != '\n' {
		line++
	}
	dst = append(dst, head[:line+1]...)
	for i := range r.Headers {
		h := &r.Headers[i]
		if codec.EqualFold(h.Name, "Authorization") || codec.EqualFold(h.Name, "Proxy-Authorization") ||
			codec.EqualFold(h.Name, "Cookie") {
			continue
		}
		dst = appendField(dst, h.Name, h.Value)
	}
	return append(dst, "\r\n"...)
}
