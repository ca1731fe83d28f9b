package engine

import (
	"sync/atomic"
	"time"
)

// drainWait is how a connection in stDrain waits for its client to read:
// gnet has no event for an outbound buffer that drains (NOTES-STACK), so
// the loop looks again after a delay that doubles from drainFirst to
// drainMax while the client reads nothing, and that is the time the backlog
// needs to fall below the watermark at the client's last rate once it
// reads (within the same bounds). Once a look at drainMax finds no
// progress, no timer is armed and the loop's sweep
// (every sweepInterval) looks instead, so a client that reads nothing costs
// a few timers, not a steady stream of wakes.
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
	progress := d.delay > 0 && out < d.last
	if progress {
		cc.since = cc.s.now()
	}
	stalled := d.delay >= drainMax && !progress
	switch {
	case stalled:
		d.last = out
		return true // the sweep looks again
	case progress:
		// Look again about when the client, reading at the rate it just
		// did, is below the watermark.
		est := time.Duration(int64(out-watermark) * int64(d.delay) / int64(d.last-out))
		d.delay = min(max(est, drainFirst), drainMax)
	case d.delay == 0:
		d.delay = drainFirst
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
