package engine

import (
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
			return "", cc.slowAuth(pol, r, cred), false
		case auth.Stale:
			return "", cc.challenge(pol, r, n, true), false
		default:
			return "", cc.challenge(pol, r, n, false), false
		}
	}
	if pol.rules != nil {
		port := 0
		if len(r.Port) > 0 {
			port, _ = parsePort(r.Port)
		} else if codec.EqualFold(r.Scheme, "https") {
			port = 443
		} else {
			port = 80
		}
		ar := acl.Request{Method: r.Method, URL: r.Target, Host: r.Host, Port: port, User: user, Connect: r.Form == codec.FormAuthority}
		if allowed, rule := pol.rules.Check(&ar); !allowed {
			return user, cc.deny(r, n, user, rule), false
		}
	}
	return user, gnet.None, true
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

// deny answers 403 with a short page naming the rule that refused.
func (cc *clientConn) deny(r *codec.Request, n int, user, rule string) gnet.Action {
	closing := r.Close || r.Minor == 0 || r.HasBody() || r.Form == codec.FormAuthority
	to := cc.errorFor(r)
	to.detail = rule
	out := cc.s.errorResponse(cc.l.out[:0], ErrRuleDenied, closing, &to)
	cc.l.out = out
	cc.s.log.Info("request denied", "client", cc.remote, "user", user, "rule", rule, "target", snippet(r.Target))
	cc.logLocal(r, 403, int64(len(out)), codeDenied, user, to.ctype())
	if r.Form == codec.FormAuthority {
		_, _ = cc.c.Discard(n)
		_, _ = cc.c.Write(out)
		return cc.closeWhenDrained()
	}
	return cc.writeLocal(r, n, out)
}

// slowAuth verifies credentials whose hash is too costly for an event loop
// (bcrypt) on a worker. The request stays unparsed in gnet's buffer; when
// the check is done the connection is woken and parses it again, and this
// time the verified-credentials cache answers the quick check.
func (cc *clientConn) slowAuth(pol *policy, r *codec.Request, cred []byte) gnet.Action {
	method := append([]byte(nil), r.Method...)
	target := append([]byte(nil), r.Target...)
	cred = append([]byte(nil), cred...)
	cc.state = stAuth
	c := cc.c
	err := cc.s.pool.Submit(func() {
		_, ok := pol.auth.SlowCheck(method, target, cred)
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
		cc.state = stIdle
		return cc.refuseWith(r, 0, err, "", true)
	}
	return gnet.None
}
