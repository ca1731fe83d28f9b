package engine

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"edgeproxy/cache"
	"edgeproxy/codec"
	"edgeproxy/engine/origin"
)

// Cache-free exchanges that cannot sit on an event loop take a worker and
// the origin package's blocking Client (issue 12): https:// origins (gnet
// has no TLS), tproxy interception (the origin connection leaves from the
// client's own address), and request bodies streamed from a detached client
// socket (chunked, or over limits.max_body). The Client runs the same
// Exchange with the same framing code as the loop pools, so these paths are
// as strict as the loop's: bytes past a response never reach another
// request, only idempotent requests are retried, and 1xx responses reach
// HTTP/1.1 clients. Cache fills that cannot sit on a loop run the same way
// (fill_worker.go), and so do both through parent proxies (runViaParent).

// directRequest is what a worker-side exchange needs to reach its origin.
type directRequest struct {
	addr   string // host:port to connect to
	key    string // the idle connections it may reuse
	host   string // the TLS server name
	tls    bool
	head   []byte // the request head bound for the origin
	expect bool   // Expect: 100-continue is forwarded with a streamed body
	// hopKey is the URL hashed to pick a parent proxy (upstream.parents),
	// or nil to go straight to the origin (hop_parent.go).
	hopKey []byte
	via    *member // the parent the last attempt went through, or nil
}

// prepareDirect builds the origin request of a cache-free http or https
// exchange that prepareOnLoop left to a worker, while r's views are valid.
func (cc *clientConn) prepareDirect(ex *exchange, r *codec.Request) {
	if ex.ohead != nil || ex.mode != cacheNone || ex.alt != nil {
		return
	}
	dr := directTarget(r, cc.route())
	if dr == nil {
		return
	}
	head := cc.s.appendOriginRequest(make([]byte, 0, 512), r, ex)
	if streamed(r, cc.s.set.maxBody) {
		head = head[:len(head)-2] // reopen the head for the body's fields
		if r.Chunked {
			head = codec.AppendHeaderString(head, "Transfer-Encoding", "chunked")
		}
		if r.Expect100 && r.Minor == 1 {
			head = codec.AppendHeaderString(head, "Expect", "100-continue")
			dr.expect = true
		}
		head = append(head, "\r\n"...)
	}
	dr.head = head
	if cc.s.hasParents() && !cc.route().set {
		dr.hopKey = cache.AppendKey(nil, r)
	}
	ex.dreq = dr
}

// directTarget says where the worker-side client connects for a request
// with r's scheme, host and port, and which idle connections it may reuse;
// nil for a scheme other than http and https. rt is the route of an
// intercepted request: its original destination, and for tproxy the
// client's address the connection leaves from.
func directTarget(r *codec.Request, rt route) *directRequest {
	secure := codec.EqualFold(r.Scheme, "https")
	if !secure && !codec.EqualFold(r.Scheme, "http") && !rt.set {
		return nil // an intercepted request's own copy is origin-form: http
	}
	port := string(r.Port)
	if port == "" {
		port = "80"
		if secure {
			port = "443"
		}
	}
	host := string(r.Host)
	dr := &directRequest{tls: secure, host: strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")}
	dr.addr = host + ":" + port
	if rt.set {
		dr.addr = rt.dst.String() // intercepted: the original destination, whatever Host says
	}
	dr.key = dr.addr
	if secure {
		dr.key = "https://" + dr.addr
	}
	if rt.from.IsValid() {
		// A connection from one client's address is reused only for it.
		dr.key = "from " + rt.from.String() + " " + dr.key
	}
	return dr
}

// streamed reports whether r's body is streamed from a detached socket
// rather than collected on the loop (clientConn.start).
func streamed(r *codec.Request, maxBody int) bool {
	return r.HasBody() && (r.Chunked || r.ContentLength > int64(maxBody))
}

// fetchDirect runs a cache-free exchange on this worker through the
// blocking origin client and relays the answer into w, which ends the
// exchange in every case.
func (ex *exchange) fetchDirect(w sink) {
	dr := ex.dreq
	d := &directRelay{ex: ex, w: w}
	oex := &ex.oex
	*oex = origin.Exchange{
		Addr:        dr.addr,
		Head:        dr.head,
		HeadRequest: ex.head,
		Idempotent:  origin.Idempotent([]byte(ex.method)),
		Handler:     d,
	}
	if ex.body != nil {
		oex.BodyStream = &continueReader{d: d, r: ex.body}
		oex.BodyLength = ex.upload.length
		if ex.upload.chunked {
			oex.BodyLength = -1
		}
		oex.ExpectContinue = dr.expect
	} else if ex.req != nil {
		oex.Body = ex.req.Body()
	}
	began := time.Now()
	ex.s.stats.OriginConns().Add(1)
	ex.s.runDirect(oex, dr, ex.route)
	ex.viaFor(dr)
	ex.s.stats.OriginConns().Add(-1)
	ex.s.stats.ObserveOrigin(time.Since(began))
}

// runDirect runs oex to its end on the calling goroutine through the
// worker-side origin client, connecting as dr and rt say: TLS for https,
// from the client's address for tproxy. It is the seam for any origin
// fetch that runs on a worker (a cache fill of an https:// object, or of a
// tproxy client's): with dr from directTarget(&ex.creq, ex.route), fill
// oex's Head, Body, HeadRequest, Idempotent and Handler; the handler's
// callbacks run here, OnDone last, before runDirect returns.
func (s *Server) runDirect(oex *origin.Exchange, dr *directRequest, rt route) {
	if dr.hopKey != nil {
		s.runViaParent(oex, dr)
		return
	}
	oex.Addr, oex.Key, oex.Head = dr.addr, dr.key, dr.head
	oex.Dial = s.directDial(dr, rt)
	s.direct.Do(oex)
}

// directDial is the dial of a worker-side exchange: nil for the client's
// default (the destination dialer), else a transparent dial from the
// client's address, a TLS handshake, or both.
func (s *Server) directDial(dr *directRequest, rt route) func(string) (net.Conn, error) {
	var base func(string) (net.Conn, error)
	connect := s.set.origin.connect
	if rt.from.IsValid() {
		td := s.transparentDial(rt.from, rt.dst)
		base = func(addr string) (net.Conn, error) { return td(addr, connect) }
	}
	if !dr.tls {
		return base
	}
	if base == nil {
		base = s.originCfg.Dial
	}
	return s.tlsDial(dr, base)
}

// tlsDial connects with base, then makes the connection TLS to dr's host.
func (s *Server) tlsDial(dr *directRequest, base func(string) (net.Conn, error)) func(string) (net.Conn, error) {
	connect := s.set.origin.connect
	return func(addr string) (net.Conn, error) {
		nc, err := base(addr)
		if err != nil {
			return nil, err
		}
		cfg := s.tlsBase.Clone()
		cfg.ServerName = dr.host
		tc := tls.Client(nc, cfg)
		ctx, cancel := context.WithTimeout(context.Background(), connect)
		defer cancel()
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = nc.Close()
			if isTimeout(err) || errors.Is(err, context.DeadlineExceeded) {
				return nil, errors.Join(ErrConnectTimeout, err)
			}
			return nil, errors.Join(ErrOriginTLS, err)
		}
		return tc, nil
	}
}

// newTLSBase is the TLS configuration origin connections start from: the
// system's roots (SSL_CERT_FILE and SSL_CERT_DIR name others), HTTP/1.1 by
// ALPN, and a session cache so that a new connection to a known origin
// resumes its session.
func newTLSBase() *tls.Config {
	return &tls.Config{
		NextProtos:         []string{"http/1.1"},
		ClientSessionCache: tls.NewLRUClientSessionCache(1024),
	}
}

// directRelay writes a worker-side exchange's response to its client: 100
// and 103 to HTTP/1.1 clients only (RFC 9110 §15.2), then the final head
// and the body in the client's framing.
type directRelay struct {
	ex        *exchange
	w         sink
	head      []byte // the final head, until it goes out with the first body bytes
	framing   int
	closing   bool
	headSent  bool      // the final head is on its way to the client
	continued bool      // the client got a 100 for its streamed body
	i         int       // the sink read buffer the next body bytes go into
	left      int64     // frameLength: body bytes still to come
	last      [3][]byte // frameLength: the last bytes, for w.finish in OnDone
}

// OnHead relays an interim response, or prepares the final head.
func (d *directRelay) OnHead(oex *origin.Exchange, r *codec.Response) error {
	ex := d.ex
	if r.Interim() {
		if ex.minor == 1 && (r.Status == 100 || r.Status == 103) {
			b := codec.AppendStatusLine(make([]byte, 0, 256), r.Status)
			b = appendEndToEnd(b, r)
			b = append(b, "\r\n"...)
			if r.Status == 100 {
				if d.continued {
					return nil // the proxy sent its own already
				}
				d.continued = true
			}
			return d.w.write(b, nil, nil)
		}
		return nil
	}
	ex.status = r.Status
	if a := oex.Peer(); a != nil {
		ex.peer = peerAddr(a)
	}
	ex.ctype = string(r.Header("Content-Type"))
	d.framing = frameLength
	switch {
	case r.Framing == codec.FramingNone:
		d.framing = frameNone
	case r.Framing != codec.FramingLength && ex.minor == 1:
		d.framing = frameChunked
	case r.Framing != codec.FramingLength:
		d.framing = frameClose
		ex.close = true
	}
	if ex.body != nil && (!ex.body.done() || ex.body.buffered() > 0) {
		// The origin answered before the whole upload was sent, whose rest
		// cannot be skipped reliably; or a request is pipelined behind the
		// upload, which the enrolled connection could not see. Either way
		// this connection ends.
		ex.close = true
	}
	d.closing = ex.close || ex.s.draining.Load()
	ex.invalidateFrom(r)
	d.head = appendOriginHead(d.w.buffer(), r, ex.s.set.name, d.framing, d.closing, ex.report())
	d.headSent = true
	d.left = r.ContentLength
	return nil
}

// OnBody relays body bytes through the sink's two read buffers, so one is
// filled while the other is being written.
func (d *directRelay) OnBody(_ *origin.Exchange, data []byte) error {
	room := chunk
	if d.framing == frameChunked {
		room = chunk - chunkRoom
	}
	for len(data) > 0 {
		buf := d.w.chunk(d.i)
		d.i ^= 1
		n := copy(buf[:room], data)
		data = data[n:]
		var prefix, suffix []byte
		if d.framing == frameChunked {
			prefix = codec.AppendChunkHeader(buf[chunk-chunkRoom:chunk-chunkRoom], n)
			suffix = crlf
		}
		if d.head != nil {
			prefix = append(d.head, prefix...)
			d.head = nil
		}
		if d.framing == frameLength {
			if d.left -= int64(n); d.left == 0 {
				// The last bytes go out with the end of the exchange, in
				// OnDone: one write, and the origin connection is back in
				// its pool before the client can send its next request.
				d.last = [3][]byte{prefix, buf[:n], suffix}
				return nil
			}
		}
		if err := d.w.write(prefix, buf[:n], suffix); err != nil {
			return err
		}
	}
	return nil
}

// OnDone ends the exchange: the rest of the answer, an error page when no
// head went out, or a cut-off connection when one did.
func (d *directRelay) OnDone(_ *origin.Exchange, err error) {
	ex := d.ex
	if err != nil {
		ex.s.log.Debug("origin fetch failed", "url", ex.target, "err", err)
		if d.headSent {
			d.w.abort()
			return
		}
		if ex.body != nil && !ex.body.done() {
			ex.close = true // the rest of the body is still on the socket
		}
		if ex.body != nil && ex.body.timedOut() {
			err = ErrBodyTimeout // the client's fault, not the origin's: 408
		}
		ex.replyError(d.w, err)
		return
	}
	switch {
	case d.last[1] != nil:
		d.w.finish(d.last[0], d.last[1], d.last[2], d.closing)
	case d.framing == frameChunked:
		d.w.finish(d.head, lastChunk, nil, d.closing)
	default:
		d.w.finish(d.head, nil, nil, d.closing)
	}
}

// continueReader is a streamed request body that sends the client its
// 100 Continue, if the origin's has not come, when the body is first read:
// the origin's 100 arrived, or its ExpectWait ran out.
type continueReader struct {
	d    *directRelay
	r    io.Reader
	sent bool
}

func (c *continueReader) Read(p []byte) (int, error) {
	if !c.sent {
		c.sent = true
		ex := c.d.ex
		if ex.upload.expect100 && ex.minor == 1 && !c.d.continued {
			c.d.continued = true
			if err := c.d.w.write(continue100, nil, nil); err != nil {
				return 0, err
			}
		}
	}
	return c.r.Read(p)
}

// invalidateFrom is invalidate for a response read by the origin package
// (RFC 9111 §4.4).
func (ex *exchange) invalidateFrom(r *codec.Response) {
	if ex.s.cache == nil || ex.key == nil || r.Status >= 400 || !isUnsafe(ex.creq.Method) {
		return
	}
	ex.s.invalidate(ex.key)
	for _, name := range [...]string{"Location", "Content-Location"} {
		if v := r.Header(name); len(v) > 0 {
			if k := sameOriginKey(ex.key, v); k != nil {
				ex.s.invalidate(k)
			}
		}
	}
}
