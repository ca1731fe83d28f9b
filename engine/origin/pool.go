package origin

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"edgeproxy/codec"
)

// Defaults of Config.
const (
	DefaultHeadTimeout = 60 * time.Second
	DefaultIdleTimeout = 60 * time.Second
	DefaultMaxIdle     = 30 * time.Second
	// ExpectWait is how long a request with Expect: 100-continue waits for
	// the 100 before its body is sent anyway (RFC 9110 §10.1.1: a client
	// need not wait indefinitely).
	ExpectWait = time.Second
)

// Config is shared by the pools of every event loop. Zero fields take the
// defaults named on them.
type Config struct {
	// Dial connects to addr ("host:port"). It runs off the event loop and
	// may block: name resolution, connect, a check of the resolved address.
	// Required.
	Dial func(addr string) (net.Conn, error)
	// Go runs a blocking dial on another goroutine; an error means it could
	// not start. If nil, a plain go statement is used.
	Go func(func()) error
	// HeadTimeout bounds the time from a request written to its whole
	// response head received. If zero, DefaultHeadTimeout.
	HeadTimeout time.Duration
	// IdleTimeout bounds the gap between two reads of a response body, or
	// of an upgraded stream. If zero, DefaultIdleTimeout.
	IdleTimeout time.Duration
	// MaxIdle bounds how long a connection waits in the pool. If zero,
	// DefaultMaxIdle. An origin's shorter Keep-Alive timeout wins.
	MaxIdle time.Duration
	// MaxHeader bounds a response head. If zero, codec.DefaultMaxResponseHeader.
	MaxHeader int
	// MaxConns bounds the origin connections of one loop, dialing, busy and
	// idle together. If zero, there is no bound.
	MaxConns int
	// Now returns the current time. If nil, time.Now; tests drive timeouts
	// with their own clock.
	Now func() time.Time
	// Stats, if not nil, counts what the pools do.
	Stats *Stats
}

// Stats counts pool events across loops. Fields are updated atomically.
type Stats struct {
	Dials    atomic.Int64 // connections dialed
	Reuses   atomic.Int64 // exchanges served on a pooled connection
	Retries  atomic.Int64 // exchanges retried on a fresh connection
	Discards atomic.Int64 // connections closed for bytes past a response or while idle
	Open     atomic.Int64 // origin connections open or dialing now
}

func (c *Config) fill() {
	if c.HeadTimeout <= 0 {
		c.HeadTimeout = DefaultHeadTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxIdle <= 0 {
		c.MaxIdle = DefaultMaxIdle
	}
	if c.MaxHeader <= 0 {
		c.MaxHeader = codec.DefaultMaxResponseHeader
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Go == nil {
		c.Go = func(f func()) error { go f(); return nil }
	}
	if c.Stats == nil {
		c.Stats = new(Stats)
	}
}

// Pool holds one event loop's origin connections. All its methods run on
// that loop.
type Pool struct {
	cfg   Config
	el    gnet.EventLoop
	idle  map[string][]*Conn // per host:port, the most recently used last
	conns []*Conn            // every connection, for the sweep; Conn.slot indexes it
}

// NewPool returns the pool of event loop el.
func NewPool(el gnet.EventLoop, cfg Config) *Pool {
	cfg.fill()
	return &Pool{cfg: cfg, el: el, idle: make(map[string][]*Conn)}
}

// Do starts ex on a pooled connection to ex.Addr, or on a new one. The
// handler learns the outcome through its callbacks, the first of which may
// run before Do returns (an immediate failure). ex and the bytes it refers
// to must stay untouched until OnDone or Cancel.
func (p *Pool) Do(ex *Exchange) {
	ex.p, ex.conn, ex.retried, ex.canceled, ex.ended = p, nil, false, false, false
	if oc := p.take(ex.Addr); oc != nil {
		p.cfg.Stats.Reuses.Add(1)
		oc.start(ex)
		return
	}
	p.dial(ex)
}

// Idle returns the number of idle connections to addr, for tests and stats.
func (p *Pool) Idle(addr string) int { return len(p.idle[addr]) }

// Conns returns the number of origin connections of this loop.
func (p *Pool) Conns() int { return len(p.conns) }

// take pops the most recently pooled connection to addr that has not
// outlived its idle lifetime; older expired ones are closed on the way.
func (p *Pool) take(addr string) *Conn {
	list := p.idle[addr]
	now := p.cfg.Now()
	for len(list) > 0 {
		oc := list[len(list)-1]
		list[len(list)-1] = nil
		list = list[:len(list)-1]
		oc.idleAt = -1
		if now.Before(oc.expires) {
			p.setIdle(addr, list)
			return oc
		}
		oc.close()
	}
	p.setIdle(addr, list)
	return nil
}

// setIdle stores addr's idle list. An empty list stays in the map with its
// capacity, so that the put after each take (every keep-alive request) does
// not allocate a new one; Sweep drops the empty lists.
func (p *Pool) setIdle(addr string, list []*Conn) {
	p.idle[addr] = list
}

// put makes oc idle until expires.
func (p *Pool) put(oc *Conn, expires time.Time) {
	oc.state, oc.expires = stIdle, expires
	list := p.idle[oc.addr]
	oc.idleAt = len(list)
	p.idle[oc.addr] = append(list, oc)
}

// unidle removes oc from its idle list.
func (p *Pool) unidle(oc *Conn) {
	if oc.idleAt < 0 {
		return
	}
	list := p.idle[oc.addr]
	i := oc.idleAt
	oc.idleAt = -1
	if i >= len(list) || list[i] != oc {
		return
	}
	copy(list[i:], list[i+1:])
	list[len(list)-1] = nil
	list = list[:len(list)-1]
	for j := i; j < len(list); j++ {
		list[j].idleAt = j
	}
	p.setIdle(oc.addr, list)
}

func (p *Pool) register(oc *Conn) {
	oc.slot = len(p.conns)
	p.conns = append(p.conns, oc)
	p.cfg.Stats.Open.Add(1)
}

func (p *Pool) unregister(oc *Conn) {
	i := oc.slot
	if i < 0 || i >= len(p.conns) || p.conns[i] != oc {
		return
	}
	last := len(p.conns) - 1
	p.conns[i] = p.conns[last]
	p.conns[i].slot = i
	p.conns[last] = nil
	p.conns = p.conns[:last]
	oc.slot = -1
	p.cfg.Stats.Open.Add(-1)
}

// dial starts a new connection for ex. The dial runs on another goroutine;
// the connection is enrolled on this loop, where Conn.OnOpen writes the
// request. Failures come back through Execute.
func (p *Pool) dial(ex *Exchange) {
	if p.cfg.MaxConns > 0 && len(p.conns) >= p.cfg.MaxConns {
		ex.finish(ErrTooManyConns)
		return
	}
	oc := &Conn{p: p, addr: ex.Addr, ex: ex, idleAt: -1}
	oc.state = stDialing
	ex.conn = oc
	p.register(oc)
	p.cfg.Stats.Dials.Add(1)
	addr := ex.Addr
	err := p.cfg.Go(func() {
		nc, err := p.cfg.Dial(addr)
		if err == nil {
			var ch <-chan gnet.RegisteredResult
			ch, err = p.el.Enroll(gnet.NewContext(context.Background(), oc), nc)
			if err != nil {
				_ = nc.Close()
			} else if res := <-ch; res.Err != nil {
				err = res.Err
			}
		}
		if err != nil {
			_ = p.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
				oc.dialFailed(err)
				return nil
			}))
		}
	})
	if err != nil {
		oc.dialFailed(err)
	}
}

// Sweep enforces the timeouts: a response head not complete within
// HeadTimeout of its request, a body or upgraded stream idle for
// IdleTimeout, and idle connections past their lifetime. A request waiting
// for 100 Continue gets its body sent after ExpectWait. Call it from the
// loop's periodic sweep; a timeout fires up to one sweep interval late.
func (p *Pool) Sweep() {
	now := p.cfg.Now()
	for i := len(p.conns) - 1; i >= 0; i-- {
		if i >= len(p.conns) {
			continue // an earlier close removed more than one
		}
		oc := p.conns[i]
		switch oc.state {
		case stHead:
			if oc.expect && now.Sub(oc.since) >= ExpectWait {
				oc.sendBody()
			}
			if now.Sub(oc.since) > p.cfg.HeadTimeout {
				oc.fail(ErrHeadTimeout)
			}
		case stBody, stUpgraded:
			if now.Sub(oc.progress) > p.cfg.IdleTimeout {
				oc.fail(ErrIdleTimeout)
			}
		case stIdle:
			if !now.Before(oc.expires) {
				p.unidle(oc)
				oc.close()
			}
		}
	}
	for addr, list := range p.idle {
		if len(list) == 0 {
			delete(p.idle, addr)
		}
	}
}

// Owner returns the origin connection c belongs to, if it is one: the
// engine's event handler routes OnOpen, OnTraffic and OnClose with it.
func Owner(c gnet.Conn) (*Conn, bool) {
	oc, ok := c.Context().(*Conn)
	return oc, ok
}

// Idempotent reports the methods RFC 9110 §9.2.2 calls idempotent: the only
// ones a proxy may retry on its own (RFC 9112 §9.3.1).
func Idempotent(method []byte) bool {
	switch string(method) {
	case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE":
		return true
	}
	return false
}

// malformed wraps a codec error.
func malformed(err error) error { return errors.Join(ErrMalformed, err) }
