package engine

import (
	"bytes"
	"net"
	"net/netip"
	"time"
	"unsafe"

	"edgeproxy/codec"
	"edgeproxy/engine/accesslog"
	"edgeproxy/engine/metrics"
)

// Squid result codes, as the access log writes them.
const (
	codeNone              = accesslog.CodeNone
	codeMemHit            = accesslog.CodeMemHit
	codeHit               = accesslog.CodeHit
	codeSwapFailMiss      = accesslog.CodeSwapFailMiss
	codeMiss              = accesslog.CodeMiss
	codeRefreshModified   = accesslog.CodeRefreshModified
	codeRefreshUnmodified = accesslog.CodeRefreshUnmodified
	codeRefreshFailOld    = accesslog.CodeRefreshFailOld
	codeINMHit            = accesslog.CodeINMHit
	codeDenied            = accesslog.CodeDenied
	codeTunnel            = accesslog.CodeTunnel
)

// view returns b as a string without copying. The rule that makes this
// safe: the string is used only during the accesslog.Writer.Log call that
// receives it, which formats synchronously into its own buffer, and nothing
// writes to b meanwhile (b is a view of the request in gnet's buffer, which
// changes only after OnTraffic returns).
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// logLocal records a request answered on the event loop: a hit, a refusal,
// a local page; ctype is the Content-Type of the answer. It allocates
// nothing.
func (cc *clientConn) logLocal(r *codec.Request, status int, bytes int64, code, user, ctype string) {
	o := metrics.Outcome{
		Method: view(r.Method), Status: status, Result: code, BytesIn: int64(len(r.Target)),
		BytesOut: bytes, Client: cc.remote, User: user, Hit: hitCode(code),
		Scheme: schemeLabel(schemeOf(r.Scheme)),
	}
	cc.s.stats.Record(&o)
	w := cc.s.alog
	if w == nil {
		return
	}
	rec := accesslog.Record{
		Time:        time.Now(),
		Client:      cc.remote,
		Code:        code,
		Status:      status,
		Bytes:       bytes,
		Method:      view(r.Method),
		URL:         logTarget(r),
		Proto:       protoOf(r.Minor),
		User:        user,
		Hierarchy:   accesslog.HierNone,
		ContentType: ctype,
		Referer:     view(r.Header("Referer")),
		UserAgent:   view(r.Header("User-Agent")),
	}
	w.Log(&rec)
}

// logTarget is the request target for the log: as received, but for an
// ftp:// target with userinfo, whose password is left out.
func logTarget(r *codec.Request) string {
	if len(r.Userinfo) == 0 {
		return view(r.Target)
	}
	user, _, _ := bytes.Cut(r.Userinfo, []byte(":"))
	i := bytes.Index(r.Target, []byte("://")) + 3
	return string(r.Target[:i]) + string(user) + string(r.Target[i+len(r.Userinfo):])
}

// logNoRequest records a connection answered before a request could be
// read: a client refused on accept, a head that did not parse or did not
// arrive in time. Squid logs these with method NONE and a URL of the form
// "error:what-happened".
func (s *Server) logNoRequest(client netip.Addr, status int, bytes int64, code, url string) {
	s.stats.Record(&metrics.Outcome{Method: "NONE", Status: status, Result: code, BytesOut: bytes, Client: client})
	if s.alog == nil {
		return
	}
	s.alog.Log(&accesslog.Record{
		Time: time.Now(), Client: client, Code: code, Status: status, Bytes: bytes,
		Method: "NONE", URL: url, Hierarchy: accesslog.HierNone, ContentType: ctypeText,
	})
}

// peerAddr is the address of the server a response came from, as Squid's
// hierarchy field writes it: the IP address alone, no port.
func peerAddr(a net.Addr) string {
	switch a := a.(type) {
	case nil:
		return ""
	case *net.TCPAddr:
		return a.IP.String()
	}
	s := a.String()
	if host, _, err := net.SplitHostPort(s); err == nil {
		return host
	}
	return s
}

// hitCode reports the Squid result codes of a request answered from the
// cache, as Squid's own statistics count hits: fresh copies, conditional
// requests answered from the cache, and revalidated or stale-if-error
// copies. It is the one definition behind edgeproxy_cache_hits_total.
func hitCode(code string) bool {
	switch code {
	case codeHit, codeMemHit, codeINMHit, accesslog.CodeIMSHit, accesslog.CodeNegativeHit,
		codeRefreshUnmodified, codeRefreshFailOld:
		return true
	}
	return false
}

func protoOf(minor uint8) string {
	if minor == 0 {
		return "HTTP/1.0"
	}
	return "HTTP/1.1"
}

// logDone records an exchange a worker finished.
func (ex *exchange) logDone() {
	if ex.cc == nil {
		return
	}
	code := ex.code
	if code == "" {
		code = codeMiss
	}
	o := metrics.Outcome{
		Method: ex.method, Status: ex.status, Result: code, BytesIn: int64(len(ex.target)) + ex.bodyIn(),
		BytesOut: ex.sent, Client: ex.cc.remote, User: ex.user, Hit: hitCode(code), Lookup: ex.lookedUp,
	}
	if ex.alt != nil {
		o.Scheme = schemeLabel(ex.alt.kind)
	}
	ex.s.stats.Record(&o)
	w := ex.s.alog
	if w == nil {
		return
	}
	hier := accesslog.HierDirect
	switch {
	case ex.peer == "":
		hier = accesslog.HierNone
	case ex.hop != nil && ex.hop.m != nil:
		hier = accesslog.HierCARP
	}
	rec := accesslog.Record{
		Time:        time.Now(),
		Elapsed:     time.Since(ex.start),
		Client:      ex.cc.remote,
		Code:        code,
		Status:      ex.status,
		Bytes:       ex.sent,
		Method:      ex.method,
		URL:         ex.target,
		Proto:       protoOf(ex.minor),
		User:        ex.user,
		Hierarchy:   hier,
		Peer:        ex.peer,
		ContentType: ex.ctype,
		Referer:     ex.referer,
		UserAgent:   ex.agent,
	}
	w.Log(&rec)
}

// bodyIn is the request body bytes the exchange forwarded.
func (ex *exchange) bodyIn() int64 {
	if ex.body != nil {
		return ex.body.total
	}
	if ex.req != nil {
		return int64(len(ex.req.Body()))
	}
	return 0
}
