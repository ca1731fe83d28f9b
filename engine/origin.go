package engine

import (
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// originTimeouts are the limits put on an origin connection.
type originTimeouts struct {
	connect   time.Duration // dial, including DNS
	firstByte time.Duration // from the request written to the first response byte
	idle      time.Duration // longest gap between reads or writes afterwards
}

// newOriginClient builds the pooled client that all origin fetches share.
//
// fasthttp's own ReadTimeout covers the whole response, body included, so a
// large object streamed to a slow client would be cut off; instead every
// origin connection is wrapped in a deadlineConn that turns the configured
// first-byte and idle timeouts into per-read deadlines, and the client's own
// timeouts stay off.
//
// dial connects to a host:port; it is the destination check's dialer, so
// every connection a client's request opens, and every background fetch,
// goes only to an address the destination policy allows.
func newOriginClient(dial fasthttp.DialFuncWithTimeout, t originTimeouts, maxConnsPerHost int) *fasthttp.Client {
	return &fasthttp.Client{
		Name:                          "",
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: true, // forward field names as the client wrote them
		DisablePathNormalizing:        true, // paths are forwarded byte-exact
		ConnPoolStrategy:              fasthttp.LIFO,
		MaxConnsPerHost:               maxConnsPerHost,
		MaxConnWaitTimeout:            0, // no free connection: fail at once, answered 503
		MaxIdleConnDuration:           30 * time.Second,
		StreamResponseBody:            true,
		MaxIdemponentCallAttempts:     2,
		RetryIfErr:                    retryIfStale,
		DialTimeout: func(addr string, _ time.Duration) (net.Conn, error) {
			c, err := dial(addr, t.connect)
			if err != nil {
				if isTimeout(err) {
					return nil, errors.Join(ErrConnectTimeout, err)
				}
				return nil, err
			}
			dc := &deadlineConn{Conn: c, firstByte: t.firstByte, idle: t.idle}
			dc.local = connAddr{Addr: c.LocalAddr(), conn: dc}
			return dc, nil
		},
	}
}

// retryIfStale retries an idempotent request once when a pooled keep-alive
// connection turned out to be closed by the origin, the race every proxy's
// pool has. A timeout is never retried: the client would wait twice.
func retryIfStale(_ *fasthttp.Request, attempts int, err error) (resetTimeout, retry bool) {
	if attempts > 1 || isTimeout(err) || isRefusal(err) {
		return false, false
	}
	return false, true
}

// deadlineConn enforces the origin first-byte and idle timeouts itself and
// ignores the deadlines fasthttp would set (none are configured there).
//
// After each write the next read must arrive within firstByte; every other
// read and write must make progress within idle. Setting a deadline is a
// runtime timer update, not a system call.
type deadlineConn struct {
	net.Conn
	firstByte, idle time.Duration
	awaiting        atomic.Bool // a request was written and no response byte read yet
	eof             atomic.Bool // a read met the end of the connection
	local           connAddr
}

// connAddr is the local address of an origin connection, and the way back
// to it from a fasthttp.Response, which keeps the LocalAddr of the
// connection it was read from.
type connAddr struct {
	net.Addr
	conn *deadlineConn
}

// LocalAddr returns the connection's local address, carrying the connection.
func (c *deadlineConn) LocalAddr() net.Addr { return &c.local }

// originClosed reports whether the connection resp was read from met its
// end. fasthttp returns the same io.EOF for a chunked body that ended with
// its last chunk and for a connection that closed where the next chunk was
// due; only the second reads the end of the connection.
func originClosed(resp *fasthttp.Response) bool {
	a, ok := resp.LocalAddr().(*connAddr)
	return ok && a.conn.eof.Load()
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	d := c.idle
	awaiting := c.awaiting.Load()
	if awaiting {
		d = c.firstByte
	}
	if err := c.Conn.SetReadDeadline(time.Now().Add(d)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	if n > 0 && awaiting {
		c.awaiting.Store(false)
	}
	if n == 0 && err == io.EOF {
		c.eof.Store(true)
	}
	// A timeout is returned as the runtime's own error: fasthttp recognises
	// it by its Timeout method, not by unwrapping.
	return n, err
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Write(p)
	c.awaiting.Store(true)
	return n, err
}

// SetDeadline, SetReadDeadline and SetWriteDeadline are no-ops: the deadlines
// are owned by Read and Write above.
func (c *deadlineConn) SetDeadline(time.Time) error      { return nil }
func (c *deadlineConn) SetReadDeadline(time.Time) error  { return nil }
func (c *deadlineConn) SetWriteDeadline(time.Time) error { return nil }
