package engine

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/panjf2000/gnet/v2"

	"edgeproxy/codec"
	"edgeproxy/engine/acl"
	"edgeproxy/engine/auth"
)

// admit decides whether a parsed request may proceed: the proxy
// authentication it carries, then the destination rules. It returns the
// user name, or ok=false with the action that answered the request.
func (cc *clientConn) admit(r *codec.Request, n int) (user string, act gnet.Action, ok bool) {
	pol := cc.s.pol.Load()
	// The client lists are checked per request too, so that a reload
	// reaches connections that were open before it.
	if !pol.clients.Permit(cc.remote) {
		return "", cc.refuseWith(r, n, ErrClientDenied, "", r.Close || r.HasBody() || r.Form == codec.FormAuthority), false
	}
	cc.recheck = false
	port := destPort(r)
	if err := cc.checkDestination(pol, r, port); err != nil {
		return "", cc.denyErr(r, n, "", err), false
	}
	if pol.auth != nil {
		if cc.authFailed {
			cc.authFailed = false
			return "", cc.challenge(pol, r, n, false), false
		}
		cred := r.Header("Proxy-Authorization")
		if cred == nil {
			return "", cc.challenge(pol, r, n, false), false
		}
		u, res := pol.auth.QuickCheck(r.Method, r.Target, cred)
		switch res {
		case auth.Authenticated:
			user = u
		case auth.NeedSlowPath:
			// The attempt is paid for before the hash is queued, so one
			// address cannot have more hashes in flight than attempts left;
			// it is refunded when the password proves right.
			if !cc.s.authLimit.Take(cc.remote) {
				return "", cc.refuse(r, n, ErrAuthLimited), false
			}
			return "", cc.slowAuth(pol, r, n, cred), false
		case auth.Stale:
			return "", cc.challenge(pol, r, n, true), false
		default:
			if !cc.s.authLimit.Take(cc.remote) {
				return "", cc.refuse(r, n, ErrAuthLimited), false
			}
			return "", cc.challenge(pol, r, n, false), false
		}
	}
	if pol.rules != nil {
		ar := acl.Request{Method: r.Method, URL: r.Target, Host: r.Host, Port: port, User: user, Connect: r.Form == codec.FormAuthority}
		switch v, rule := pol.rules.Decide(&ar); v {
		case acl.Deny:
			return user, cc.deny(r, n, user, rule), false
		case acl.NeedAddr:
			// A dst rule decides on the address the name resolves to: the
			// worker that connects decides again (recheckRules).
			cc.recheck = true
		}
	}
	return user, gnet.None, true
}

// destPort is the destination port of an absolute-form or authority-form
// request: the explicit port, else the scheme's; 0 when the port is invalid.
func destPort(r *codec.Request) int {
	switch {
	case len(r.Port) > 0:
		port, _ := parsePort(r.Port)
		return port
	case r.Form == codec.FormAuthority || codec.EqualFold(r.Scheme, "https"):
		return 443
	case codec.EqualFold(r.Scheme, "ftp"):
		return 21
	case codec.EqualFold(r.Scheme, "gopher"):
		return 70
	}
	return 80
}

// checkDestination applies the destination policy that needs no name
// resolution, on the loop: absolute-URI requests only to acl.safe_ports
// (Squid's `http_access deny !Safe_ports`; CONNECT has tunnel.allowed_ports
// instead), and a host that is an address in any spelling, or a localhost
// name, checked as that address. Host names are checked on the address
// they resolve to, when a worker connects (acl.Dialer).
func (cc *clientConn) checkDestination(pol *policy, r *codec.Request, port int) error {
	if r.Form == codec.FormAbsolute && !pol.safePorts.Contains(port) {
		return acl.ErrUnsafePort
	}
	if err, decided := cc.s.dest.Policy().CheckHost(r.Host, port); decided {
		return err
	}
	return nil
}

// recheck is a destination rule decision that waits for the address the
// host name resolves to: the rules in force at admission and the request
// as they saw it, copied out of the parse buffer.
type recheck struct {
	rules *acl.Rules
	req   acl.Request
}

// newRecheck copies what the rules look at, when admission deferred the
// decision (clientConn.recheck); nil otherwise.
func (cc *clientConn) newRecheck(r *codec.Request) *recheck {
	if !cc.recheck {
		return nil
	}
	rules := cc.s.pol.Load().rules
	if rules == nil {
		return nil
	}
	return &recheck{rules: rules, req: acl.Request{
		Method:  append([]byte(nil), r.Method...),
		URL:     append([]byte(nil), r.Target...),
		Host:    append([]byte(nil), r.Host...),
		Port:    destPort(r),
		User:    cc.user,
		Connect: r.Form == codec.FormAuthority,
	}}
}

// decide resolves the request's host as the dialer will (the same cached
// answer) and decides the rules on every address the proxy may connect to:
// the request is allowed only if every one is. A refused destination is
// returned as the dialer's refusal; a rule's as *ruleDenied.
func (rc *recheck) decide(d *acl.Dialer, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	addrs, err := d.Resolve(ctx, net.JoinHostPort(hostOnly(rc.req.Host), strconv.Itoa(rc.req.Port)))
	if err != nil {
		return err
	}
	return rc.decideOn(addrs)
}

// decideOn decides the rules on each of addrs, the checked candidates the
// proxy may connect to: allowed only if every one is.
func (rc *recheck) decideOn(addrs []netip.AddrPort) error {
	for _, a := range addrs {
		rc.req.Addr = a.Addr()
		if v, rule := rc.rules.Decide(&rc.req); v != acl.Allow {
			return &ruleDenied{rule: rule}
		}
	}
	return nil
}

// hostOnly strips the brackets of an IPv6 literal, for net.JoinHostPort.
func hostOnly(h []byte) string {
	if len(h) >= 2 && h[0] == '[' && h[len(h)-1] == ']' {
		h = h[1 : len(h)-1]
	}
	return string(h)
}

// challenge answers 407 with a Proxy-Authenticate field for every
// configured scheme (RFC 9110 §11.7.1); stale tells a Digest client that
// only its nonce expired, so it retries without asking the user.
func (cc *clientConn) challenge(pol *policy, r *codec.Request, n int, stale bool) gnet.Action {
	out := codec.AppendStatusLine(cc.l.out[:0], 407)
	out = pol.auth.Challenges(out, stale)
	closing := r.Close || r.Minor == 0 || r.HasBody()
	to := cc.errorFor(r)
	out = cc.s.appendErrorRest(out, ErrProxyAuth, closing, &to)
	cc.l.out = out
	cc.logLocal(r, 407, int64(len(out)), codeDenied, "", to.ctype())
	return cc.writeLocal(r, n, out)
}

// deny answers 403 with a page naming the rule that refused.
func (cc *clientConn) deny(r *codec.Request, n int, user, rule string) gnet.Action {
	return cc.denyWith(r, n, user, ErrRuleDenied, rule, rule)
}

// denyErr answers 403 for a destination refusal, with the page statusFor
// gives err: it names the key that would allow the request, if any.
func (cc *clientConn) denyErr(r *codec.Request, n int, user string, err error) gnet.Action {
	return cc.denyWith(r, n, user, err, "", err.Error())
}

// denyWith answers 403 with err's page, detail added to it, logging reason
// as the refusal's cause.
func (cc *clientConn) denyWith(r *codec.Request, n int, user string, err error, detail, reason string) gnet.Action {
	closing := r.Close || r.Minor == 0 || r.HasBody() || r.Form == codec.FormAuthority
	to := cc.errorFor(r)
	to.detail = detail
	out := cc.s.errorResponse(cc.l.out[:0], err, closing, &to)
	cc.l.out = out
	cc.s.log.Info("request denied", "client", cc.remote, "user", user, "reason", reason, "target", snippet(r.Target))
	cc.logLocal(r, 403, int64(len(out)), codeDenied, user, to.ctype())
	if r.Form == codec.FormAuthority {
		_, _ = cc.c.Discard(n)
		_, _ = cc.c.Write(out)
		return cc.closeWhenDrained()
	}
	return cc.writeLocal(r, n, out)
}

// slowAuth verifies credentials whose hash is too costly for an event loop
// (bcrypt) on the hash pool. The request stays unparsed in gnet's buffer;
// when the check is done the connection is woken and parses it again, and
// this time the verified-credentials cache answers the quick check. The
// caller has taken an attempt from the client's failure budget: it is
// given back when the password is right or the check cannot be queued.
func (cc *clientConn) slowAuth(pol *policy, r *codec.Request, n int, cred []byte) gnet.Action {
	method := append([]byte(nil), r.Method...)
	target := append([]byte(nil), r.Target...)
	cred = append([]byte(nil), cred...)
	cc.state = stAuth
	c, limit, remote := cc.c, cc.s.authLimit, cc.remote
	err := cc.s.hashes.submit(func() {
		_, ok := pol.auth.SlowCheck(method, target, cred)
		if ok {
			limit.Refund(remote)
		}
		_ = c.Wake(func(c gnet.Conn, err error) error {
			if err != nil || cc.closed || cc.c != c || cc.state != stAuth {
				return nil
			}
			cc.state = stIdle
			cc.authFailed = !ok
			if cc.onTraffic() == gnet.Close {
				_ = c.Close()
			}
			return nil
		})
	})
	if err != nil {
		limit.Refund(remote)
		cc.state = stIdle
		return cc.refuseWith(r, 0, err, "", true)
	}
	return gnet.None
}
