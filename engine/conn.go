package engine

import (
	"net/netip"
	"time"

	"github.com/panjf2000/gnet/v2"

	"edgeproxy/codec"
)

// Connection states.
const (
	stIdle     uint8 = iota // between requests
	stHead                  // part of a request head has arrived
	stBody                  // a head was parsed; its small body is arriving
	stBusy                  // an exchange is in flight on a worker
	stWait                  // a detach waits for gnet to drain earlier output
	stDetached              // the socket belongs to a goroutine
	stClosing               // closes once gnet has written what it holds
	stAuth                  // credentials are being verified on a worker
	stDrain                 // answers wait until the client reads earlier ones
)

// clientConn is one client connection. Its fields belong to the event loop;
// a worker serving it holds only the gnet.Conn and its own exchange.
type clientConn struct {
	s      *Server
	l      *loop
	c      gnet.Conn
	remote netip.Addr
	parser codec.Parser
	slot   int32 // index in the loop's registry; -1 once removed
	state  uint8
	closed bool

	authFailed bool // the slow credential check refused the buffered request
	recheck    bool // admission left a dst rule to decide on the resolved address

	since int64     // when the current state began (Server.now)
	body  *exchange // stBody: the request its body bytes go to
	left  int       // stBody: body bytes still to come
	user  string    // the authenticated user of the current request
	lex   *exchange // the exchange fetched on the loop, until its origin side ends

	drain drainWait // stDrain: the backlog being waited on

	icpt *interception // an intercepted connection; nil on a forward listener
}

// attach binds cc to a gnet connection on loop l: at open, and when a
// detached socket is enrolled back.
func (cc *clientConn) attach(c gnet.Conn, l *loop) {
	cc.c, cc.l = c, l
	cc.state = stIdle
	cc.since = cc.s.now()
	c.SetContext(cc)
	l.add(cc)
}

// detach removes cc from its loop's registry.
func (cc *clientConn) detach() {
	if cc.l != nil {
		cc.l.remove(cc)
	}
}

// onTraffic parses every complete request the connection has buffered and
// answers or dispatches it, one at a time.
func (cc *clientConn) onTraffic() gnet.Action {
	switch cc.state {
	case stBusy, stWait, stAuth, stDrain:
		// The bytes of a pipelined request wait in gnet's buffer until the
		// exchange in flight ends; they are bounded so that a client cannot
		// queue unlimited data behind a slow response.
		if cc.c.InboundBuffered() > cc.s.set.maxPipeline {
			cc.s.log.Debug("pipeline limit exceeded", "client", cc.remote)
			return gnet.Close
		}
		if cc.state == stWait && cc.c.OutboundBuffered() == 0 {
			cc.state = stIdle
			break
		}
		if cc.state == stDrain && !cc.backlogged() {
			cc.state = stIdle
			break
		}
		return gnet.None
	case stBody:
		return cc.readBody()
	case stDetached:
		return gnet.None
	case stClosing:
		return cc.closeWhenDrained()
	}
	r := &cc.l.req
	for cc.state == stIdle || cc.state == stHead {
		buf, _ := cc.c.Peek(-1)
		if len(buf) == 0 {
			return gnet.None
		}
		if cc.state == stIdle && cc.c.OutboundBuffered() > watermark {
			// The client is not reading its answers: the next one waits
			// (pipelined hits would otherwise pile up in gnet's buffer).
			cc.state, cc.since = stDrain, cc.s.now()
			cc.drain.last, cc.drain.delay = 0, 0
			cc.backlogged()
			return gnet.None
		}
		if cc.icpt != nil && !cc.icpt.sniffed {
			if act, done := cc.sniff(buf); done {
				return act
			}
		}
		n, err := cc.parser.Parse(buf, r, &cc.s.set.limits)
		if err == codec.ErrNeedMore {
			if cc.state != stHead {
				cc.state, cc.since = stHead, cc.s.now()
			}
			return gnet.None
		}
		if err != nil {
			cc.s.log.Debug("refused request", "client", cc.remote, "err", err, "head", snippet(buf))
			act := cc.replyError(err, true, nil)
			status, _ := statusFor(err)
			cc.s.logNoRequest(cc.remote, status, int64(len(cc.l.out)), codeNone, "error:invalid-request")
			return act
		}
		if act := cc.handle(r, n, buf); act != gnet.None {
			return act
		}
	}
	return gnet.None
}

// handle routes one parsed request by the form of its target, after the
// proxy's admission checks for those it forwards.
func (cc *clientConn) handle(r *codec.Request, n int, buf []byte) gnet.Action {
	if cc.icpt != nil {
		return cc.intercepted(r, n, buf)
	}
	if r.Form == codec.FormOrigin || r.Form == codec.FormAsterisk {
		return cc.local(r, n)
	}
	user, act, ok := cc.admit(r, n)
	if !ok {
		return act
	}
	cc.user = user
	switch r.Form {
	case codec.FormAbsolute:
		return cc.forward(r, n, buf)
	case codec.FormAuthority:
		return cc.connect(r, n, buf)
	default:
		return cc.local(r, n)
	}
}

// idle returns the connection to stIdle after an exchange, or closes it.
func (cc *clientConn) idle() {
	cc.state, cc.since = stIdle, cc.s.now()
	cc.body = nil
}

// replyError answers err with its status and a short text, or for an HTML
// client (to) a page, discarding the whole buffer when it closes the
// connection: when close is set or the framing of what follows cannot be
// trusted.
func (cc *clientConn) replyError(err error, close bool, to *errorTo) gnet.Action {
	cc.l.out = cc.s.errorResponse(cc.l.out[:0], err, close, to)
	_, _ = cc.c.Write(cc.l.out)
	if close {
		_, _ = cc.c.Discard(-1)
		return gnet.Close
	}
	cc.idle()
	return gnet.None
}

// refuse answers r, whose head is the first n buffered bytes, with err's
// error response, and logs and counts it. A refusal of a request with a
// body closes the connection, because its body bytes would otherwise be
// read as the next request; so does one to an HTTP/1.0 client, which
// expects the close.
func (cc *clientConn) refuse(r *codec.Request, n int, err error) gnet.Action {
	return cc.refuseWith(r, n, err, "", r.Close || r.Minor == 0 || r.HasBody())
}

// refuseWith is refuse with a detail for the page (the rule that refused)
// and a choice to close the connection.
func (cc *clientConn) refuseWith(r *codec.Request, n int, err error, detail string, close bool) gnet.Action {
	status, _ := statusFor(err)
	to := cc.errorFor(r)
	to.detail = detail
	out := cc.s.errorResponse(cc.l.out[:0], err, close, &to)
	cc.l.out = out
	cc.logLocal(r, status, int64(len(out)), refusalCode(status), cc.user, to.ctype())
	_, _ = cc.c.Discard(n)
	_, _ = cc.c.Write(out)
	if close {
		_, _ = cc.c.Discard(-1)
		return gnet.Close
	}
	cc.idle()
	return gnet.None
}

// refusalCode is the Squid result code of a request the proxy refused
// itself: TCP_DENIED for 403 and 407, as Squid logs access and
// authentication denials, NONE otherwise (Squid's code for a transaction
// that never reached the cache).
func refusalCode(status int) string {
	if status == 403 || status == 407 {
		return codeDenied
	}
	return codeNone
}

// snippet is a bounded prefix of bad input for the log.
func snippet(b []byte) string {
	if len(b) > 128 {
		b = b[:128]
	}
	return string(b)
}

// wakeLater asks the loop to look at cc again after d, for waits that gnet
// has no event for (its outbound buffer draining).
func wakeLater(c gnet.Conn, d time.Duration) {
	time.AfterFunc(d, func() { _ = c.Wake(nil) })
}

// route is where the current intercepted request goes; the zero route on a
// forward listener. (It lives in the interception, so that a forward
// connection, the common idle one, does not carry it.)
func (cc *clientConn) route() route {
	if cc.icpt == nil {
		return route{}
	}
	return cc.icpt.route
}
