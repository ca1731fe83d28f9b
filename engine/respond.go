package engine

import (
	"bytes"

	"github.com/panjf2000/gnet/v2"

	"edgeproxy/codec"
)

// Response body framings (RFC 9112 §6.3).
const (
	frameNone    = iota // HEAD, 1xx, 204, 304
	frameLength         // Content-Length
	frameChunked        // chunked to an HTTP/1.1 client
	frameClose          // until close, for an HTTP/1.0 client and an unknown length
)

// appendConnection writes Connection: close when the connection ends after
// this response. Persistence is the HTTP/1.1 default and HTTP/1.0 clients
// always get close, so keep-alive is never spelled out.
func appendConnection(dst []byte, close bool) []byte {
	if close {
		return codec.AppendHeaderString(dst, "Connection", "close")
	}
	return dst
}

// local answers a request addressed to the proxy itself (origin-form or *):
// the proxy auto-configuration file, or a refusal.
func (cc *clientConn) local(r *codec.Request, n int) gnet.Action {
	get := string(r.Method) == "GET" || string(r.Method) == "HEAD"
	path := r.Path
	if i := bytes.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if get && (string(path) == "/proxy.pac" || string(path) == "/wpad.dat") {
		return cc.servePAC(r, n)
	}
	return cc.refuse(r, n, ErrNotProxyRequest)
}

// servePAC serves the proxy auto-configuration file, naming this proxy by
// the address the client used to reach it.
func (cc *clientConn) servePAC(r *codec.Request, n int) gnet.Action {
	proxy := string(r.HostHeader)
	if proxy == "" {
		proxy = cc.c.LocalAddr().String()
	}
	body := bytes.ReplaceAll(cc.s.pol.Load().pac, []byte("%PROXY%"), []byte(proxy))
	out := codec.AppendStatusLine(cc.l.out[:0], 200)
	out = codec.AppendHeaderString(out, "Content-Type", "application/x-ns-proxy-autoconfig")
	out = codec.AppendHeaderInt(out, "Content-Length", int64(len(body)))
	out = codec.AppendHeaderString(out, "Cache-Control", "max-age=300")
	out = appendConnection(out, r.Close || r.Minor == 0)
	out = append(out, "\r\n"...)
	if string(r.Method) == "GET" {
		out = append(out, body...)
	}
	cc.l.out = out
	// Squid logs a page it makes itself (its cache manager's) as TCP_MISS
	// from HIER_NONE: no cache object, no origin.
	cc.logLocal(r, 200, int64(len(out)), codeMiss, cc.user, "application/x-ns-proxy-autoconfig")
	return cc.writeLocal(r, n, out)
}

// writeLocal writes a response built on the loop for a request without a
// body and continues with the connection, or closes it.
func (cc *clientConn) writeLocal(r *codec.Request, n int, out []byte) gnet.Action {
	_, _ = cc.c.Discard(n)
	_, _ = cc.c.Write(out)
	if r.Close || r.Minor == 0 || r.HasBody() {
		return gnet.Close
	}
	cc.idle()
	return gnet.None
}

// appendField appends one field line from byte views.
func appendField(dst, name, value []byte) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}
