package origin

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Client sizes.
const (
	// clientBuffer is the first size of a connection's read buffer; it
	// grows only for a response head larger than that, up to MaxHeader.
	clientBuffer = 16 << 10
	// streamChunk is the largest piece of a streamed request body written
	// at once.
	streamChunk = 32 << 10
	// maxIdlePerKey bounds the idle connections kept per Exchange key; the
	// oldest goes first.
	maxIdlePerKey = 32
)

// errRetry is run's signal to Do: the reused connection failed before any
// response byte, and the exchange may go again on a fresh one.
var errRetry = errors.New("origin: retry on a fresh connection")

// Client is the same HTTP/1.1 client as Pool for the origins an event loop
// cannot own: TLS origins (gnet has no TLS), connections that must leave
// from a client's own address (tproxy), and requests whose body streams from
// a socket detached from its loop. It runs each Exchange to its end on the
// calling goroutine, with blocking reads and writes bounded by connection
// deadlines: the whole response head within HeadTimeout of the request, and
// every later read or write within IdleTimeout.
//
// The framing code is Conn's own (reader), so the rules are the same: HEAD,
// 1xx, 204 and 304 carry no body, bytes past the end of a response close the
// connection, an idle connection goes back to its pool only at an exact
// message boundary with nothing buffered and no close on either side. A
// connection taken from the pool is first checked for bytes that arrived
// while it was idle (a non-blocking peek at its socket, and for TLS a read
// of what the TLS layer holds); any close it. Retries follow Pool's rule:
// once, on a freshly dialed connection, for an idempotent request whose
// reused connection failed before any response byte.
//
// Idle connections are kept per Exchange.Key (by default Addr), most
// recently used last. A Client is safe for concurrent use.
type Client struct {
	cfg Config

	mu   sync.Mutex                 // protects idle
	idle map[string][]*blockingConn // per key, the most recently used last
}

// NewClient returns a Client; cfg's Go and MaxConns are not used (the
// caller's goroutine does the work, and bounds the number in flight).
func NewClient(cfg Config) *Client {
	cfg.fill()
	return &Client{cfg: cfg, idle: make(map[string][]*blockingConn)}
}

// blockingConn is one origin connection of a Client.
type blockingConn struct {
	c      *Client
	key    string
	nc     net.Conn
	reader // the response framing, shared with Conn

	ex      *Exchange
	served  int    // exchanges started on this connection
	buf     []byte // read buffer; buf[:n] received and not yet consumed
	n       int
	sendNow bool // a 100 arrived: send the held request body
	closed  bool
	expires time.Time // while idle
}

func (bc *blockingConn) sendBody() { bc.sendNow = true }

func (bc *blockingConn) current(ex *Exchange) bool {
	return bc.ex == ex && !bc.closed && !ex.canceled
}

// Do runs ex on an idle connection for its key, or a new one, on the
// calling goroutine: the handler's callbacks run here, OnDone last (unless
// the handler calls Cancel), before Do returns. Exchange.Detach is not
// available: the caller already owns the goroutine.
func (c *Client) Do(ex *Exchange) {
	ex.p, ex.conn, ex.bc, ex.retried, ex.canceled, ex.ended = nil, nil, nil, false, false, false
	key := ex.Key
	if key == "" {
		key = ex.Addr
	}
	bc := c.take(key)
	if bc != nil {
		c.cfg.Stats.Reuses.Add(1)
	}
	for {
		if bc == nil {
			var err error
			if bc, err = c.dial(ex, key); err != nil {
				ex.finish(err)
				return
			}
		}
		if bc.run(ex) != errRetry {
			return
		}
		// The keep-alive race: the origin closed a pooled connection while
		// this request was on its way. Once, on a new connection, never a
		// pooled one that may be just as stale.
		bc.close()
		bc = nil
		ex.retried = true
		c.cfg.Stats.Retries.Add(1)
	}
}

// dial opens a connection for ex.
func (c *Client) dial(ex *Exchange, key string) (*blockingConn, error) {
	dial := ex.Dial
	if dial == nil {
		dial = c.cfg.Dial
	}
	c.cfg.Stats.Dials.Add(1)
	nc, err := dial(ex.Addr)
	if err != nil {
		return nil, err
	}
	c.cfg.Stats.Open.Add(1)
	return &blockingConn{c: c, key: key, nc: nc}, nil
}

// take pops the most recently pooled connection for key that has not
// outlived its idle lifetime and received nothing while idle; the others
// met on the way are closed.
func (c *Client) take(key string) *blockingConn {
	now := c.cfg.Now()
	for {
		c.mu.Lock()
		list := c.idle[key]
		if len(list) == 0 {
			c.mu.Unlock()
			return nil
		}
		bc := list[len(list)-1]
		list[len(list)-1] = nil
		c.setIdle(key, list[:len(list)-1])
		c.mu.Unlock()
		if now.Before(bc.expires) && quiet(bc.nc) {
			return bc
		}
		if now.Before(bc.expires) {
			c.cfg.Stats.Discards.Add(1)
		}
		bc.close()
	}
}

func (c *Client) setIdle(key string, list []*blockingConn) {
	if len(list) == 0 {
		delete(c.idle, key)
		return
	}
	c.idle[key] = list
}

// put makes bc idle until expires.
func (c *Client) put(bc *blockingConn, expires time.Time) {
	bc.expires = expires
	c.mu.Lock()
	list := append(c.idle[bc.key], bc)
	var old *blockingConn
	if len(list) > maxIdlePerKey {
		old = list[0]
		copy(list, list[1:])
		list[len(list)-1] = nil
		list = list[:len(list)-1]
	}
	c.idle[bc.key] = list
	c.mu.Unlock()
	if old != nil {
		old.close()
	}
}

// Sweep closes the idle connections past their lifetime. Call it
// periodically from any goroutine.
func (c *Client) Sweep() {
	now := c.cfg.Now()
	var expired []*blockingConn
	c.mu.Lock()
	for key, list := range c.idle {
		keep := list[:0]
		for _, bc := range list {
			if now.Before(bc.expires) {
				keep = append(keep, bc)
			} else {
				expired = append(expired, bc)
			}
		}
		clear(list[len(keep):])
		c.setIdle(key, keep)
	}
	c.mu.Unlock()
	for _, bc := range expired {
		bc.close()
	}
}

// Close closes every idle connection.
func (c *Client) Close() {
	c.mu.Lock()
	idle := c.idle
	c.idle = make(map[string][]*blockingConn)
	c.mu.Unlock()
	for _, list := range idle {
		for _, bc := range list {
			bc.close()
		}
	}
}

// Idle returns the number of idle connections for key, for tests and stats.
func (c *Client) Idle(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.idle[key])
}

// quiet reports whether an idle connection received nothing, not even its
// end, since its last response: RFC 9112 §9.3.2 leaves nothing for an idle
// connection to carry, and whatever arrives must never be read as the
// answer to the next request. The socket is peeked without blocking; a TLS
// connection is also read with a deadline already past, which returns what
// its TLS layer holds decrypted or buffered without touching the socket.
func quiet(nc net.Conn) bool {
	raw := nc
	tc, isTLS := nc.(*tls.Conn)
	if isTLS {
		raw = tc.NetConn()
	}
	sc, ok := raw.(syscall.Conn)
	if !ok {
		return false // cannot tell: not reused
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var b [1]byte
	empty := false
	err = rc.Read(func(fd uintptr) bool {
		_, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		empty = rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK
		return true
	})
	if err != nil || !empty {
		return false
	}
	if isTLS {
		_ = tc.SetReadDeadline(time.Unix(1, 0))
		n, err := tc.Read(b[:])
		var ne net.Error
		if n > 0 || !errors.As(err, &ne) || !ne.Timeout() {
			return false
		}
	}
	return true
}

// close closes bc's socket once.
func (bc *blockingConn) close() {
	if bc.closed {
		return
	}
	bc.closed = true
	bc.c.cfg.Stats.Open.Add(-1)
	_ = bc.nc.Close()
}

// run sends ex's request on bc and reads its response. It ends ex (OnDone)
// itself, unless it returns errRetry: the reused connection failed before
// any response byte and ex may go again.
func (bc *blockingConn) run(ex *Exchange) error {
	cfg := &bc.c.cfg
	bc.ex, ex.bc = ex, bc
	bc.served++
	bc.begin(ex)
	bc.sendNow = false
	bc.n = 0
	if bc.buf == nil {
		bc.buf = make([]byte, clientBuffer)
	}
	sent := time.Now()
	headBy := sent.Add(cfg.HeadTimeout)
	if err := bc.writeRequest(ex, !bc.expect); err != nil {
		return bc.fail(ex, err)
	}
	for {
		used, err := bc.read(bc, ex, bc.buf[:bc.n], cfg.MaxHeader, cfg.Now())
		if err != nil {
			return bc.fail(ex, err)
		}
		bc.n = copy(bc.buf, bc.buf[used:bc.n])
		if !bc.current(ex) {
			// Canceled from a callback: no callback runs any more.
			bc.ex = nil
			bc.close()
			return nil
		}
		if bc.sendNow {
			bc.sendNow = false
			if err := bc.sendHeld(ex); err != nil {
				return bc.fail(ex, err)
			}
		}
		if bc.state == stBody && bc.body.Done() {
			bc.complete(ex)
			return nil
		}
		if bc.n == len(bc.buf) {
			// Only a head outgrows the buffer: the parser refuses one past
			// MaxHeader, so this stops there.
			bc.buf = append(bc.buf, make([]byte, len(bc.buf))...)
		}
		expectBy := time.Time{}
		var deadline time.Time
		if bc.state == stHead {
			deadline = headBy
			if bc.expect && !bc.bodySent {
				expectBy = sent.Add(ExpectWait)
				deadline = expectBy
			}
		} else {
			deadline = time.Now().Add(cfg.IdleTimeout)
		}
		_ = bc.nc.SetReadDeadline(deadline)
		m, rerr := bc.nc.Read(bc.buf[bc.n:])
		bc.n += m
		if m > 0 {
			continue
		}
		var ne net.Error
		switch {
		case rerr == nil:
			continue
		case errors.As(rerr, &ne) && ne.Timeout():
			if !expectBy.IsZero() {
				// No 100 in time: the body goes anyway (RFC 9110 §10.1.1).
				if err := bc.sendHeld(ex); err != nil {
					return bc.fail(ex, err)
				}
				continue
			}
			if bc.state == stHead {
				return bc.fail(ex, ErrHeadTimeout)
			}
			return bc.fail(ex, ErrIdleTimeout)
		case bc.state == stHead:
			if bc.served > 1 && !bc.gotByte && ex.Idempotent && !ex.retried && ex.BodyStream == nil {
				bc.ex, ex.bc = nil, nil
				return errRetry
			}
			return bc.fail(ex, ErrClosed)
		default:
			if bc.body.EOF() != nil {
				return bc.fail(ex, ErrClosed)
			}
			bc.ex = nil
			bc.close()
			ex.finish(nil)
			return nil
		}
	}
}

// fail ends ex with err and closes the connection.
func (bc *blockingConn) fail(ex *Exchange, err error) error {
	bc.ex = nil
	bc.close()
	ex.finish(err)
	return nil
}

// complete ends an exchange whose body has ended, bc.n bytes having
// followed it.
func (bc *blockingConn) complete(ex *Exchange) {
	excess := bc.n
	bc.ex = nil
	if excess > 0 {
		bc.c.cfg.Stats.Discards.Add(1)
	}
	if bc.reusable(ex, excess) {
		cfg := &bc.c.cfg
		bc.n = 0
		bc.c.put(bc, cfg.Now().Add(lifetime(cfg.MaxIdle, bc.resp.KeepAliveTimeout)))
	} else {
		bc.close()
	}
	ex.finish(nil)
}

// sendHeld writes a body held back for 100 Continue, once.
func (bc *blockingConn) sendHeld(ex *Exchange) error {
	if !bc.expect || bc.bodySent {
		return nil
	}
	bc.expect = false
	return bc.writeBody(ex)
}

// writeRequest writes the head and, with body, the request body. An error
// is returned only when the exchange cannot go on: the request body's
// source failed. A failed write to the origin is not one: the origin may
// have answered early and closed (a 413 to a large upload), so its answer is
// read next, and the connection is not reused.
func (bc *blockingConn) writeRequest(ex *Exchange, body bool) error {
	idle := bc.c.cfg.IdleTimeout
	_ = bc.nc.SetWriteDeadline(time.Now().Add(idle))
	if body && len(ex.Body) > 0 {
		v := net.Buffers{ex.Head, ex.Body}
		if _, err := v.WriteTo(bc.nc); err != nil {
			return nil
		}
		bc.bodySent = true
		return nil
	}
	if _, err := bc.nc.Write(ex.Head); err != nil {
		return nil
	}
	if body {
		return bc.writeBody(ex)
	}
	return nil
}

// writeBody writes the request body: Body, or BodyStream as it is read.
func (bc *blockingConn) writeBody(ex *Exchange) error {
	idle := bc.c.cfg.IdleTimeout
	if ex.BodyStream == nil {
		if len(ex.Body) == 0 {
			bc.bodySent = true
			return nil
		}
		_ = bc.nc.SetWriteDeadline(time.Now().Add(idle))
		if _, err := bc.nc.Write(ex.Body); err == nil {
			bc.bodySent = true
		}
		return nil
	}
	// The chunk-size line goes in front of the data in the same buffer, so
	// each piece is one write.
	const room = 18 // 16 hex digits and CRLF
	buf := make([]byte, room+streamChunk+2)
	chunked := ex.BodyLength < 0
	left := ex.BodyLength
	for chunked || left > 0 {
		p := buf[room : room+streamChunk]
		if !chunked && int64(len(p)) > left {
			p = p[:left]
		}
		n, err := ex.BodyStream.Read(p)
		if n > 0 {
			out := buf[room : room+n]
			if chunked {
				var line [room]byte
				h := strconv.AppendInt(line[:0], int64(n), 16)
				h = append(h, '\r', '\n')
				start := room - len(h)
				copy(buf[start:], h)
				out = append(buf[start:room+n], '\r', '\n')
			} else {
				left -= int64(n)
			}
			_ = bc.nc.SetWriteDeadline(time.Now().Add(idle))
			if _, werr := bc.nc.Write(out); werr != nil {
				return nil // read the answer, if any; not reused
			}
		}
		if err == io.EOF {
			if !chunked {
				return io.ErrUnexpectedEOF
			}
			_ = bc.nc.SetWriteDeadline(time.Now().Add(idle))
			if _, werr := bc.nc.Write([]byte("0\r\n\r\n")); werr != nil {
				return nil
			}
			break
		}
		if err != nil {
			return err
		}
	}
	bc.bodySent = true
	return nil
}
