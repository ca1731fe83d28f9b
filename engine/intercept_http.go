package engine

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"

	"edgeproxy/cache"
	"edgeproxy/codec"
	"edgeproxy/engine/acl"
	"edgeproxy/engine/intercept"
)

// Intercepted HTTP (issue 15).
//
// An origin-form request on an intercept or tproxy listener goes to the
// connection's original destination, whatever its Host says. It is cached
// under Host + path only once the Host is verified to resolve to that
// destination (Squid's host_verify_strict; CVE-2009-0801): otherwise a
// client could send "Host: www.example.com" to its own server and poison
// the cache for everyone. A request whose Host does not match is still
// forwarded to the original destination, so the client gets what it asked
// that server for, but it is neither looked up nor stored, and an unsafe
// method invalidates nothing. Host names are resolved on a worker, never on
// the loop: the request waits, unparsed in gnet's buffer, until the answer
// is in hostVerifier, whose verdicts then serve every request for
// verifyTTL. Once rewritten to its absolute URL the request takes the
// forward path: rules, cache, accounting and logging are the same.

// verifyTTL is how long a Host verdict is reused; the resolver keeps its
// answers as long (acl.Resolver TTL).
const verifyTTL = 30 * time.Second

// maxVerdicts bounds hostVerifier's table; a full table is cleared.
const maxVerdicts = 4096

// route is where an intercepted request goes. The zero route is a forward
// request's: to what its URL names.
type route struct {
	set      bool
	dst      netip.AddrPort // the original destination
	from     netip.Addr     // tproxy: the client's address, which origin connections leave from
	verified bool           // the Host resolves to dst: the response may be cached
}

// hostVerifier remembers whether a Host resolves to an original
// destination: key "host dst-ip".
type hostVerifier struct {
	mu sync.Mutex         // protects m
	m  map[string]verdict // by host and destination address
}

type verdict struct {
	ok      bool
	expires int64 // unix nanoseconds
}

// get returns the verdict for key, if one is known and current. It does
// not allocate.
func (v *hostVerifier) get(key []byte, now int64) (ok, known bool) {
	v.mu.Lock()
	e, found := v.m[string(key)]
	v.mu.Unlock()
	if !found || now > e.expires {
		return false, false
	}
	return e.ok, true
}

func (v *hostVerifier) put(key string, ok bool, now int64) {
	v.mu.Lock()
	if v.m == nil || len(v.m) >= maxVerdicts {
		v.m = make(map[string]verdict)
	}
	v.m[key] = verdict{ok: ok, expires: now + int64(verifyTTL)}
	v.mu.Unlock()
}

// cache is the cache a request on cc may use: none for an intercepted
// request whose Host is not verified.
func (cc *clientConn) cache() *cache.Cache {
	if rt := cc.route(); rt.set && !rt.verified {
		return nil
	}
	return cc.s.cache
}

// intercepted handles a request on an intercept or tproxy listener.
func (cc *clientConn) intercepted(r *codec.Request, n int, buf []byte) gnet.Action {
	ic := cc.icpt
	ic.route = route{}
	cc.user, cc.recheck = "", false
	if ic.loop {
		return cc.refuseWith(r, n, ErrForwardLoop, "", true)
	}
	if r.Form != codec.FormOrigin {
		return cc.refuse(r, n, ErrInterceptForm)
	}
	pol := cc.s.pol.Load()
	if !pol.clients.Permit(cc.remote) {
		return cc.refuseWith(r, n, ErrClientDenied, "", true)
	}
	dst := ic.dst
	hostport := r.HostHeader
	if len(hostport) == 0 { // HTTP/1.0 without Host: the address is all there is
		ic.host = dst.AppendTo(ic.host[:0])
		hostport = ic.host
	}
	host, portB := codec.SplitHostPort(hostport)
	port := 80
	if len(portB) > 0 {
		var ok bool
		if port, ok = parsePort(portB); !ok {
			port = 0
		}
	}
	verified := false
	switch a, isAddr := acl.HostAddr(host); {
	case port != int(dst.Port()):
	case isAddr:
		verified = a.Unmap() == dst.Addr()
	default:
		key := codec.AppendLower(ic.key[:0], host)
		key = append(key, ' ')
		key = dst.Addr().AppendTo(key)
		ic.key = key
		ok, known := cc.s.icpt.verify.get(key, time.Now().UnixNano())
		if !known {
			return cc.verifyHost(r, n, string(host), dst.Addr(), string(key))
		}
		verified = ok
	}
	if err := cc.s.dest.Policy().Check(dst.Addr(), int(dst.Port())); err != nil {
		return cc.denyErr(r, n, "", err)
	}
	// From here on it is the absolute-form request the client would have
	// sent a proxy.
	t := append(ic.target[:0], "http://"...)
	t = append(t, hostport...)
	t = append(t, r.Target...)
	ic.target = t
	r.Target, r.Scheme, r.Host, r.Port, r.Form = t, httpScheme, host, portB, codec.FormAbsolute
	if pol.rules != nil {
		ar := acl.Request{Method: r.Method, URL: r.Target, Host: host, Port: int(dst.Port()), Addr: dst.Addr()}
		if v, rule := pol.rules.Decide(&ar); v == acl.Deny {
			return cc.deny(r, n, "", rule)
		}
	}
	ic.route = route{set: true, dst: dst, verified: verified}
	if ic.mode == modeTproxy {
		ic.route.from = cc.remote
	}
	return cc.forward(r, n, buf)
}

var httpScheme = []byte("http")

// verifyHost resolves host on a worker and records whether it names dst.
// The request stays unparsed in gnet's buffer; once the verdict is known
// the connection is woken and parses it again, and this time the verdict
// decides.
func (cc *clientConn) verifyHost(r *codec.Request, n int, host string, dst netip.Addr, key string) gnet.Action {
	s, c := cc.s, cc.c
	cc.state = stAuth // waits like a credential check: the request stays buffered
	err := s.submit(cc.remote, func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.set.origin.connect)
		addrs, err := s.dest.Resolver.LookupHost(ctx, hostOnly([]byte(host)))
		cancel()
		ok := false
		for _, a := range addrs {
			if a.Unmap() == dst {
				ok = true
			}
		}
		if err != nil || !ok {
			s.log.Info("intercepted Host does not resolve to the original destination: not cached",
				"host", host, "dst", dst, "err", err)
		}
		s.icpt.verify.put(key, ok, time.Now().UnixNano())
		_ = c.Wake(func(c gnet.Conn, err error) error {
			if err != nil || cc.closed || cc.c != c || cc.state != stAuth {
				return nil
			}
			cc.state = stIdle
			if cc.onTraffic() == gnet.Close {
				_ = c.Close()
			}
			return nil
		})
	})
	if err != nil {
		cc.state = stIdle
		return cc.refuseWith(r, n, err, "", true)
	}
	return gnet.None
}

// routeBackground points a background revalidation of an intercepted
// request's object at the original destination: its head was parsed again
// in origin form, so the URL comes from the key (scheme, Host and path).
// The fetch belongs to no client, so it leaves from the proxy's address
// even for tproxy.
func (ex *exchange) routeBackground(rt route, key []byte) {
	if !rt.set {
		return
	}
	ex.route = rt
	ex.route.from = netip.Addr{}
	if ex.req != nil {
		ex.req.SetRequestURIBytes(key)
	}
}

// transparentDial connects to dst from the client's address from, after
// the destination policy allows dst.
func (s *Server) transparentDial(from netip.Addr, dst netip.AddrPort) func(string, time.Duration) (net.Conn, error) {
	return func(_ string, timeout time.Duration) (net.Conn, error) {
		if err := s.dest.Policy().Check(dst.Addr(), int(dst.Port())); err != nil {
			return nil, err
		}
		return intercept.DialTransparent(context.Background(), from, dst, timeout)
	}
}
