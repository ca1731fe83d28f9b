package engine

import (
	"strconv"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"

	"edgeproxy/engine/accesslog"
	"edgeproxy/engine/acl"
	"edgeproxy/engine/intercept"
	"edgeproxy/engine/metrics"
)

// Intercepted HTTPS (issue 15): an intercepted connection whose first byte
// opens a TLS handshake record is not decrypted. Its ClientHello is read on
// the loop for the SNI name (intercept.ServerName, waiting at most
// timeouts.client_header for the whole hello), the client lists, the
// destination policy, tunnel.allowed_ports and the rules decide on it as on
// "CONNECT name:port" to the original destination, and it is then spliced
// to that destination by the CONNECT tunnel machinery, the hello bytes
// first (Squid's ssl_bump peek + splice). A refusal closes the connection:
// a TLS client cannot read an HTTP error. The access log line is
// "CONNECT name:port" (the destination address when the hello names
// none), with the destination's address as peer, as Squid logs a spliced
// connection.

// sniff looks at the first bytes of an intercepted connection. It reports
// done when they are (or may be) a TLS ClientHello, which it then handles;
// otherwise the connection carries HTTP.
func (cc *clientConn) sniff(buf []byte) (gnet.Action, bool) {
	ic := cc.icpt
	if buf[0] != 22 { // not a TLS handshake record (RFC 8446 §5.1)
		ic.sniffed = true
		return gnet.None, false
	}
	name, err := intercept.ServerName(buf, &ic.scratch)
	if err == intercept.ErrNeedMore {
		if cc.state != stHead {
			cc.state, cc.since = stHead, cc.s.now()
		}
		return gnet.None, true
	}
	ic.sniffed = true
	dst := ic.dst
	if err != nil {
		cc.s.log.Debug("intercepted TLS refused", "client", cc.remote, "dst", dst, "err", err)
		cc.logSNI(nil, 400, codeNone)
		return gnet.Close, true
	}
	if ic.loop {
		cc.logSNI(name, 508, codeNone)
		return gnet.Close, true
	}
	pol := cc.s.pol.Load()
	port := int(dst.Port())
	host := name
	if host == nil {
		ic.host = dst.Addr().AppendTo(ic.host[:0])
		host = ic.host
	}
	switch {
	case !pol.clients.Permit(cc.remote),
		cc.s.dest.Policy().Check(dst.Addr(), port) != nil,
		!cc.s.set.tunnelAllowed(port):
		cc.logSNI(name, 403, codeDenied)
		return gnet.Close, true
	}
	if pol.rules != nil {
		url := append(append(append(ic.target[:0], host...), ':'), strconv.Itoa(port)...)
		ic.target = url
		ar := acl.Request{Method: methodConnect, URL: url, Host: host, Port: port, Connect: true, Addr: dst.Addr()}
		if v, rule := pol.rules.Decide(&ar); v == acl.Deny {
			cc.s.log.Info("request denied", "client", cc.remote, "reason", rule, "sni", string(host), "dst", dst)
			cc.logSNI(name, 403, codeDenied)
			return gnet.Close, true
		}
	}
	fd, err := cc.c.Dup()
	if err != nil {
		return gnet.Close, true
	}
	cc.state = stDetached
	cc.s.inflight.Add(1)
	t := &tunnel{
		s:           cc.s,
		target:      dst.String(),
		url:         string(host) + ":" + strconv.Itoa(port),
		leftover:    append([]byte(nil), buf...),
		client:      cc.remote,
		start:       time.Now(),
		intercepted: true,
	}
	if ic.mode == modeTproxy {
		t.from = cc.remote
	}
	if err := cc.s.submit(cc.remote, func() { t.run(fd) }); err != nil {
		cc.s.inflight.Add(-1)
		_ = syscall.Close(fd)
		cc.state = stIdle
		cc.logSNI(name, 503, codeNone)
		return gnet.Close, true
	}
	return gnet.Close, true
}

var methodConnect = []byte("CONNECT")

// logSNI records an intercepted TLS connection refused before its tunnel.
func (cc *clientConn) logSNI(name []byte, status int, code string) {
	cc.s.stats.Record(&metrics.Outcome{Method: "CONNECT", Status: status, Result: code, Client: cc.remote})
	if cc.s.alog == nil {
		return
	}
	host := string(name)
	if host == "" {
		host = cc.icpt.dst.Addr().String()
	}
	cc.s.alog.Log(&accesslog.Record{
		Time: time.Now(), Client: cc.remote, Code: code, Status: status,
		Method: "CONNECT", URL: host + ":" + strconv.Itoa(int(cc.icpt.dst.Port())), Hierarchy: accesslog.HierNone,
	})
}
