package engine

import (
	"sync/atomic"
	"time"
)

// drainWait is how a connection in stDrain waits for its client to read:
// gnet has no event for an outbound buffer that drains (NOTES-STACK), so
// the loop looks again after a delay that backs off from drainFirst to
// drainMax while the client reads nothing.
type drainWait struct {
	last  int           // bytes gnet held at the previous look
	delay time.Duration // until the next look
	armed *atomic.Bool  // a wake is scheduled; nil until the first
}

const (
	drainFirst = 500 * time.Microsecond
	drainMax   = 20 * time.Millisecond
)

// backlogged reports whether gnet still holds more than watermark bytes for
// the client; if so it arranges to be asked again. A backlog that shrinks
// counts as progress for the stDrain timeout (timeouts.keepalive_idle),
// which the loop's sweep enforces.
func (cc *clientConn) backlogged() bool {
	out := cc.c.OutboundBuffered()
	if out <= watermark {
		return false
	}
	d := &cc.drain
	switch {
	case d.delay == 0:
		d.delay = drainFirst
	case out < d.last:
		d.delay = drainFirst
		cc.since = cc.s.now()
	default:
		d.delay = min(2*d.delay, drainMax)
	}
	d.last = out
	if d.armed == nil {
		d.armed = new(atomic.Bool)
	}
	if d.armed.CompareAndSwap(false, true) {
		armed, c := d.armed, cc.c
		time.AfterFunc(d.delay, func() {
			armed.Store(false)
			_ = c.Wake(nil)
		})
	}
	return true
}
