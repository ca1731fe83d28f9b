package engine

import (
	"time"

	"github.com/panjf2000/gnet/v2"

	"edgeproxy/codec"
	"edgeproxy/engine/origin"
)

// sweepInterval is how often each loop looks for timed-out connections; a
// timeout fires up to this much late.
const sweepInterval = 250 * time.Millisecond

// loop is the state one event loop shares among its connections. Every field
// is touched only on that loop's goroutine.
type loop struct {
	s     *Server
	el    gnet.EventLoop
	conns []*clientConn // registry for the sweep; clientConn.slot indexes it
	req   codec.Request // parse scratch: views live only inside one OnTraffic
	out   []byte        // scratch for responses written on the loop
	hit   hitState      // scratch for answers from the cache
	feed  *feed         // requests for the prefetcher's learner; nil until the first

	origin *origin.Pool // this loop's origin connections
	pass   *passMemo    // URLs whose misses are fetched as passes (pass.go)
}

func newLoop(s *Server, el gnet.EventLoop) *loop {
	l := &loop{s: s, el: el, out: make([]byte, 0, 4096), origin: origin.NewPool(el, s.originCfg), pass: new(passMemo)}
	l.initHit()
	return l
}

func (l *loop) add(cc *clientConn) {
	cc.slot = int32(len(l.conns))
	l.conns = append(l.conns, cc)
}

func (l *loop) remove(cc *clientConn) {
	i := int(cc.slot)
	if i < 0 || i >= len(l.conns) || l.conns[i] != cc {
		return
	}
	last := len(l.conns) - 1
	l.conns[i] = l.conns[last]
	l.conns[i].slot = int32(i)
	l.conns[last] = nil
	l.conns = l.conns[:last]
	cc.slot = -1
}

// sweep has the origin pool enforce its timeouts, then closes client
// connections that broke a timeout: a request head or buffered
// body not received within timeouts.client_header gets 408 (the slowloris
// defence), a connection idle for timeouts.keepalive_idle is closed (as is
// one whose client has read none of its answers for that long), and while
// draining every idle connection is closed at once.
func (l *loop) sweep(now int64) {
	l.origin.Sweep()
	set := l.s.set
	draining := l.s.draining.Load()
	for i := len(l.conns) - 1; i >= 0; i-- {
		cc := l.conns[i]
		age := time.Duration(now - cc.since)
		switch cc.state {
		case stHead, stBody:
			if age > set.clientHeader {
				l.out = l.s.errorResponse(l.out[:0], ErrRequestTimeout, true, nil)
				l.s.logNoRequest(cc.remote, 408, int64(len(l.out)), codeNone, "error:request-timeout")
				_, _ = cc.c.Write(l.out)
				_ = cc.c.Close()
			}
		case stIdle:
			if draining || age > set.idle {
				_ = cc.c.Close()
			}
		case stClosing:
			if age > set.idle {
				_ = cc.c.Close()
			}
		case stDrain:
			if age > set.idle {
				_ = cc.c.Close()
			} else {
				_ = cc.c.Wake(nil) // a stalled backlog has no timer of its own
			}
		}
	}
}
