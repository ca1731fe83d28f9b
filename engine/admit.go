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
		return "", cc.deny(r, n, "", "acl"), false
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
	const text = "proxy authentication required\n"
	out := codec.AppendStatusLine(cc.l.out[:0], 407)
	out = pol.auth.Challenges(out, stale)
	out = codec.AppendHeaderString(out, "Content-Type", "text/plain; charset=utf-8")
	out = codec.AppendHeaderInt(out, "Content-Length", int64(len(text)))
	closing := r.Close || r.Minor == 0 || r.HasBody()
	out = appendConnection(out, closing)
	out = append(out, "\r\n"+text...)
	cc.l.out = out
	cc.logLocal(r, 407, int64(len(out)), codeDenied, "")
	return cc.writeLocal(r, n, out)
}

// deny answers 403 with a short page naming the rule that refused.
func (cc *clientConn) deny(r *codec.Request, n int, user, rule string) gnet.Action {
	out := codec.AppendStatusLine(cc.l.out[:0], 403)
	body := "access denied by rule " + rule + "\n"
	out = codec.AppendHeaderString(out, "Content-Type", "text/plain; charset=utf-8")
	out = codec.AppendHeaderInt(out, "Content-Length", int64(len(body)))
	closing := r.Close || r.Minor == 0 || r.HasBody() || r.Form == codec.FormAuthority
	out = appendConnection(out, closing)
	out = append(out, "\r\n"...)
	out = append(out, body...)
	cc.l.out = out
	cc.s.log.Info("request denied", "client", cc.remote, "user", user, "rule", rule, "target", snippet(r.Target))
	cc.logLocal(r, 403, int64(len(out)), codeDenied, user)
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
		return cc.refuse(r, n, err)
	}
	return gnet.None
}
