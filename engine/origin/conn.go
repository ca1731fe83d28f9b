package origin

import (
	"time"

	"github.com/panjf2000/gnet/v2"
)

// Connection states.
const (
	stDialing  uint8 = iota // dialing off the loop, not yet enrolled
	stIdle                  // in the pool
	stHead                  // request written; response head expected
	stBody                  // final head read; body arriving
	stUpgraded              // after a 101: bytes relayed until close
	stClosed                // closed, or closing
)

// keepAliveMargin is how long before the origin's announced Keep-Alive
// timeout a pooled connection is dropped: the sweep runs every 250 ms, and a
// request in flight when the origin closes would have to be retried.
const keepAliveMargin = time.Second

// Conn is one connection to an origin, owned by a Pool's loop.
type Conn struct {
	p      *Pool
	addr   string
	c      gnet.Conn // nil while dialing
	slot   int       // index in Pool.conns
	idleAt int       // index in the idle list, or -1
	ex     *Exchange
	served int // exchanges started on this connection

	reader           // the response framing, shared with Client
	vec    [2][]byte // Writev scratch: gnet mutates it on partial writes

	since   time.Time
	expires time.Time
}

// dialFailed ends the exchange of a connection that never opened.
func (oc *Conn) dialFailed(err error) {
	if oc.state != stDialing {
		return
	}
	oc.state = stClosed
	oc.p.unregister(oc)
	ex := oc.ex
	oc.ex = nil
	if ex != nil {
		ex.finish(err)
	}
}

// OnOpen runs when a dialed connection has been enrolled on the loop: it
// writes the request, or pools the connection if its exchange was canceled.
func (oc *Conn) OnOpen(c gnet.Conn) gnet.Action {
	oc.c = c
	if oc.state != stDialing {
		return gnet.Close
	}
	if oc.ex == nil {
		oc.p.put(oc, oc.p.cfg.Now().Add(oc.p.cfg.MaxIdle))
		return gnet.None
	}
	oc.start(oc.ex)
	return gnet.None
}

// start writes ex's request on oc.
func (oc *Conn) start(ex *Exchange) {
	oc.ex, ex.conn = ex, oc
	oc.served++
	oc.begin(ex)
	oc.since = oc.p.cfg.Now()
	v := oc.vec[:1]
	v[0] = ex.Head
	if !oc.expect && len(ex.Body) > 0 {
		v = append(v, ex.Body)
		oc.bodySent = true
	}
	// A failed write closes the connection inside Writev and OnClose runs
	// at once, which retries or ends the exchange.
	_, _ = oc.c.Writev(v)
}

// sendBody writes a body held back for 100 Continue.
func (oc *Conn) sendBody() {
	if !oc.expect || oc.ex == nil {
		return
	}
	oc.expect = false
	oc.bodySent = true
	_, _ = oc.c.Write(oc.ex.Body)
}

// OnTraffic reads what the origin sent: response heads, then the body,
// handed to the exchange's handler as they arrive. A connection that ends
// here is closed before gnet reads from it again, which matters when its
// socket has been detached to a goroutine.
func (oc *Conn) OnTraffic() gnet.Action {
	switch oc.state {
	case stHead, stBody, stUpgraded:
	case stIdle:
		// RFC 9112 §9.3.2 leaves nothing for an idle connection to carry:
		// whatever arrives belongs to no request, and must never be read as
		// the answer to the next one.
		oc.p.cfg.Stats.Discards.Add(1)
		oc.close()
		_, _ = oc.c.Discard(-1)
		return gnet.Close
	default:
		_, _ = oc.c.Discard(-1)
		return gnet.Close
	}
	buf, _ := oc.c.Peek(-1)
	ex := oc.ex
	used, err := oc.read(oc, ex, buf, oc.p.cfg.MaxHeader, oc.p.cfg.Now())
	switch {
	case err != nil:
		oc.fail(err)
	case oc.ex != ex || oc.state == stClosed:
		// The handler canceled or detached the exchange.
		oc.close()
	case oc.state == stBody && oc.body.Done():
		oc.complete(len(buf) - used)
		used = len(buf)
	}
	if oc.state == stClosed {
		_, _ = oc.c.Discard(-1)
		return gnet.Close
	}
	discard(oc.c, used)
	return gnet.None
}

// discard drops the first n buffered bytes. gnet's Discard takes n <= 0 to
// mean everything, which would lose a partly received head.
func discard(c gnet.Conn, n int) {
	if n > 0 {
		_, _ = c.Discard(n)
	}
}

// current reports whether ex is still oc's exchange.
func (oc *Conn) current(ex *Exchange) bool { return oc.ex == ex && oc.state != stClosed }

// complete ends an exchange whose body has ended, excess bytes past it
// having arrived. The connection goes back to the pool only at an exact
// message boundary, with the request body sent and no close on either side.
func (oc *Conn) complete(excess int) {
	ex := oc.ex
	oc.ex = nil
	r := &oc.resp
	reuse := oc.reusable(ex, excess)
	if excess > 0 {
		oc.p.cfg.Stats.Discards.Add(1)
	}
	if reuse {
		oc.p.put(oc, oc.p.cfg.Now().Add(lifetime(oc.p.cfg.MaxIdle, r.KeepAliveTimeout)))
	} else {
		oc.close()
	}
	ex.finish(nil)
}

// OnClose runs when the connection has closed, whoever closed it.
func (oc *Conn) OnClose() {
	switch oc.state {
	case stClosed, stDialing:
		return
	case stIdle:
		oc.p.unidle(oc)
		oc.close()
		return
	}
	ex := oc.ex
	switch oc.state {
	case stHead:
		if ex != nil && oc.served > 1 && !oc.gotByte && ex.Idempotent && !ex.retried {
			// The keep-alive race: the origin closed a pooled connection
			// while this request was on its way. Retry once, on a new
			// connection, never a pooled one that may be just as stale.
			oc.ex = nil
			oc.close()
			ex.retried = true
			oc.p.cfg.Stats.Retries.Add(1)
			oc.p.dial(ex)
			return
		}
		oc.fail(ErrClosed)
	case stBody, stUpgraded:
		if err := oc.body.EOF(); err != nil {
			oc.fail(ErrClosed)
			return
		}
		oc.ex = nil
		oc.close()
		if ex != nil {
			ex.finish(nil)
		}
	}
}

// fail ends the current exchange with err and closes the connection.
func (oc *Conn) fail(err error) {
	ex := oc.ex
	oc.ex = nil
	oc.close()
	if ex != nil {
		ex.finish(err)
	}
}

// close marks oc closed, forgets it, and closes its socket. gnet closes
// asynchronously; OnClose then finds nothing to do.
func (oc *Conn) close() {
	if oc.state == stClosed {
		return
	}
	oc.state = stClosed
	oc.p.unidle(oc)
	oc.p.unregister(oc)
	if oc.c != nil {
		_ = oc.c.Close()
	}
}
