package engine

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/panjf2000/gnet/v2"

	"edgeproxy/cache"
	"edgeproxy/codec"
	"edgeproxy/engine/config"
	"edgeproxy/engine/ftp"
	"edgeproxy/engine/gopher"
)

// URL schemes the proxy forwards. http and https go to an HTTP origin; ftp
// and gopher are fetched by the proxy itself (engine/ftp, engine/gopher)
// and answered as HTTP.
const (
	schemeHTTP uint8 = iota
	schemeFTP
	schemeGopher
	schemeOther
)

// schemeOf classifies an absolute-form target's scheme.
func schemeOf(s []byte) uint8 {
	switch {
	case codec.EqualFold(s, "http"), codec.EqualFold(s, "https"):
		return schemeHTTP
	case codec.EqualFold(s, "ftp"):
		return schemeFTP
	case codec.EqualFold(s, "gopher"):
		return schemeGopher
	}
	return schemeOther
}

// schemeLabel is the metrics label of a scheme.
func schemeLabel(kind uint8) string {
	switch kind {
	case schemeFTP:
		return "ftp"
	case schemeGopher:
		return "gopher"
	}
	return "http"
}

// schemeSettings is the ftp: and gopher: configuration.
type schemeSettings struct {
	ftp    config.FTP
	gopher config.Gopher
}

// altRequest is what an ftp:// or gopher:// exchange carries in place of an
// origin request: the parsed URL, and FTP credentials from Authorization.
type altRequest struct {
	kind      uint8
	ftp       *ftp.Target
	gopher    *gopher.Target
	user      string // from Authorization: Basic, when the URL names no password
	pass      string
	basicAuth bool // the request carried Authorization: Basic
}

// forwardScheme is forward for an ftp:// or gopher:// target: the port and
// method are checked and the URL parsed on the loop, then the request goes
// through the cache lookup and, on a miss, to a worker like any other.
// FTP requests with credentials (in the URL or in Authorization) are
// neither looked up nor stored: a logged-in user may see other files than
// an anonymous one under the same URL.
func (cc *clientConn) forwardScheme(r *codec.Request, n int, buf []byte, kind uint8) gnet.Action {
	set := &cc.s.set.schemes
	alt := &altRequest{kind: kind}
	port := 21
	if kind == schemeGopher {
		port = 70
	}
	if len(r.Port) > 0 {
		port, _ = strconv.Atoi(string(r.Port)) // the codec checked 1 to 65535
	}
	method := string(r.Method)
	private := false
	switch kind {
	case schemeFTP:
		if !set.ftp.Allows(port) {
			return cc.refuse(r, n, ErrSchemePort)
		}
		switch method {
		case "GET", "HEAD":
		case "PUT":
			if !set.ftp.Upload {
				return cc.refuse(r, n, ErrFTPUpload)
			}
		default:
			return cc.refuse(r, n, ErrSchemeMethod)
		}
		t, err := ftp.ParseTarget(r.Host, r.Port, r.Path, r.Userinfo)
		if err != nil {
			return cc.refuse(r, n, err)
		}
		alt.ftp = t
		if a := r.Header("Authorization"); a != nil {
			alt.basicAuth = true
			if !t.HasPassword {
				u, p, ok := basicCredentials(a)
				if !ok {
					return cc.refuse(r, n, ftp.ErrBadURL)
				}
				alt.user, alt.pass = u, p
			}
		}
		private = t.User != "" || alt.basicAuth
	case schemeGopher:
		if !set.gopher.Allows(port) {
			return cc.refuse(r, n, ErrSchemePort)
		}
		if method != "GET" && method != "HEAD" {
			return cc.refuse(r, n, ErrSchemeMethod)
		}
		t, err := gopher.ParseURL(r.Host, r.Port, r.Path)
		if err != nil {
			return cc.refuse(r, n, err)
		}
		alt.gopher = t
	}
	c := cc.s.cache
	lookedUp := c != nil && (method == "GET" || method == "HEAD") && !r.HasBody() && !private
	var d cache.Decision
	if lookedUp {
		act, done, decision := cc.lookup(r, n, buf)
		if done {
			return act
		}
		d = decision
	}
	ex := cc.s.newExchange(cc, r)
	ex.buildRequest(r)
	ex.lookedUp = lookedUp
	ex.alt = alt
	if kind == schemeFTP && len(r.Userinfo) > 0 {
		// Logs and debug messages never see the password.
		ex.target = alt.ftp.LogURL()
		ex.req.SetRequestURI(ex.target)
	}
	if c != nil && (lookedUp || isUnsafe(r.Method)) {
		cc.prepareCache(ex, r, n, buf, lookedUp, d)
	}
	return cc.start(ex, r, n, buf)
}

// basicCredentials decodes Authorization: Basic (RFC 7617 §2) into a user
// and password fit for an FTP command line: no CR, LF or NUL.
func basicCredentials(v []byte) (user, pass string, ok bool) {
	scheme, token, _ := strings.Cut(strings.TrimSpace(string(v)), " ")
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
	if err != nil || strings.ContainsAny(string(raw), "\r\n\x00") {
		return "", "", false
	}
	user, pass, ok = strings.Cut(string(raw), ":")
	return user, pass, ok && user != ""
}

// serveScheme is roundTrip for an ftp:// or gopher:// exchange.
func (ex *exchange) serveScheme(w sink) {
	defer func() {
		ex.abortFill()
		if ex.flight != nil {
			ex.flight.Cancel()
			ex.flight = nil
		}
	}()
	if ex.joinMiss(w) {
		return
	}
	if ex.alt.kind == schemeFTP {
		ex.serveFTP(w)
		return
	}
	ex.serveGopher(w)
}

// joinMiss is fetchCached's start for a miss: the disk tier, only-if-cached,
// and collapsed forwarding. It reports whether w was answered.
func (ex *exchange) joinMiss(w sink) bool {
	if ex.mode != cacheMiss {
		return false
	}
	if ex.serveDisk(w) {
		return true
	}
	if ex.onlyCached {
		ex.replyError(w, ErrOnlyIfCached) // RFC 9111 §5.2.1.7
		return true
	}
	f, leader := ex.s.cache.Join(ex.key)
	if !leader {
		return ex.follow(w, f)
	}
	ex.flight = f
	if ex.serveStored(w, false, "") { // a commit landed since the loop's miss
		ex.flight.Cancel()
		ex.flight = nil
		return true
	}
	return false
}

// startFill opens a cache writer for a response described by m, as
// fetchCached does for an origin response, and shares it with the flight's
// followers; or releases them when the response is not stored.
func (ex *exchange) startFill(m *cache.Meta) {
	c := ex.s.cache
	if ex.mode != cacheNone && !ex.head && m != nil {
		if c.Storable(&ex.creq, m) {
			ex.fill = c.NewWriter(ex.key, &ex.creq, m)
			if err := ex.fill.Refused(); err != nil {
				ex.s.log.Debug("not stored", "url", ex.target, "err", err)
				ex.fill.Abort()
				ex.fill = nil
			}
		}
		ex.startSpool(m)
	}
	if ex.flight != nil {
		if ex.fill != nil {
			ex.flight.Publish(ex.fill)
		} else {
			ex.flight.Cancel()
		}
		ex.flight = nil
	}
}

// appendSchemeHead is the head of a response the proxy made from an FTP or
// Gopher answer: the fields, the framing, the cache report and Via.
func (ex *exchange) appendSchemeHead(dst []byte, status int, fields []codec.Header, size int64, framing int, close bool) []byte {
	dst = codec.AppendStatusLine(dst, status)
	for _, h := range fields {
		dst = appendField(dst, h.Name, h.Value)
	}
	switch {
	case framing == frameChunked:
		dst = codec.AppendHeaderString(dst, "Transfer-Encoding", "chunked")
	case size >= 0 && framing != frameClose:
		dst = codec.AppendHeaderInt(dst, "Content-Length", size)
	}
	dst = append(dst, "Via: 1.1 "...)
	dst = append(dst, ex.s.set.name...)
	dst = append(dst, "\r\n"...)
	dst = appendMissReport(dst, ex.s.set.name, ex.report())
	dst = appendConnection(dst, close)
	return append(dst, "\r\n"...)
}

// sendBody answers with status, fields and a body of unknown or known size
// streamed from src through the cache writer, if any (size -1 for unknown).
func (ex *exchange) sendBody(w sink, status int, fields []codec.Header, src io.Reader, size int64) {
	framing := frameLength
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
	ex.status, ex.ctype = status, contentType(fields)
	head := ex.appendSchemeHead(w.buffer(), status, fields, size, framing, closing)
	if framing == frameNone {
		w.finish(head, nil, nil, closing)
		return
	}
	ex.pump(w, src, head, framing, size, closing)
}

// sendPage answers with a page the proxy built, never stored.
func (ex *exchange) sendPage(w sink, status int, fields []codec.Header, body []byte) {
	ex.startFill(nil)
	closing := ex.close || ex.s.draining.Load()
	ex.status, ex.ctype = status, contentType(fields)
	head := ex.appendSchemeHead(w.buffer(), status, fields, int64(len(body)), frameLength, closing)
	if ex.head {
		body = nil
	}
	w.finish(head, body, nil, closing)
}

// contentType is the Content-Type among fields, for the access log.
func contentType(fields []codec.Header) string {
	for _, h := range fields {
		if string(h.Name) == "Content-Type" {
			return string(h.Value)
		}
	}
	return ""
}

// fields builds a header list from name, value pairs.
func fields(kv ...string) []codec.Header {
	hs := make([]codec.Header, 0, len(kv)/2+1)
	for i := 0; i+1 < len(kv); i += 2 {
		hs = append(hs, codec.Header{Name: []byte(kv[i]), Value: []byte(kv[i+1])})
	}
	return append(hs, codec.Header{Name: []byte("Date"), Value: codec.AppendHTTPDate(nil, time.Now())})
}

// dialScheme opens the TCP connections of FTP and Gopher fetches, control
// and data alike, through the destination policy's dialer (issue 11), as
// origin fetches and tunnels do: the host is resolved and every address
// checked (no loopback unless acl.allow_local_destinations, never the
// proxy's own listeners) before a connection is made. A dial that runs out
// of time is ErrConnectTimeout, answered 504.
func (s *Server) dialScheme(ctx context.Context, _, addr string) (net.Conn, error) {
	timeout := s.set.origin.connect
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	nc, err := s.dest.DialTimeout(addr, timeout)
	if err != nil && isTimeout(err) {
		return nil, fmt.Errorf("%w: %w", ErrConnectTimeout, err)
	}
	return nc, err
}
