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
// pool has. A timeout is never retried: the client would wait twice; nor is
// a request whose client body failed its rate (its body is spent), nor one
// the origin answered with an invalid head (a broken origin, not a stale
// connection).
func retryIfStale(_ *fasthttp.Request, attempts int, err error) (resetTimeout, retry bool) {
	if attempts > 1 || isTimeout(err) || isRefusal(err) || errors.Is(err, ErrBodyTimeout) || errors.Is(err, ErrOriginHead) {
		return false, false
	}
	return false, true
}

// deadlineConn enforces the origin first-byte and idle timeouts itself and
// ignores the deadlines fasthttp would set (none are configured there).
//
// The whole response head (interim 1xx heads included) must arrive within
// firstByte of the last request write: the reads of a head share one
// deadline, so an origin trickling its head cannot renew it byte by byte.
// Every other read and write must make progress within idle. Setting a
// deadline is a runtime timer update, not a system call.
//
// fasthttp's client writes a whole request before it reads the response and
// never reads and writes one connection at once, so a write marks the start
// of a new exchange, and the head is found by scanning the bytes read until
// its empty line (headScan). A head line ended by a bare LF fails the read
// with ErrOriginHead at once: fasthttp's header scanner looks only for
// CRLFCRLF, and would wait for more bytes until a timeout.
type deadlineConn struct {
	net.Conn
	firstByte, idle time.Duration
	eof             atomic.Bool // a read met the end of the connection
	local           connAddr

	// Touched only by the goroutine running the exchange.
	writing  bool      // the last call was a Write: the next read starts a head
	deadline time.Time // the response head must be whole by then
	head     headScan
	broken   error // a bad head was seen: every later read fails
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
	if c.broken != nil {
		return 0, c.broken
	}
	if c.writing {
		c.writing = false
		c.head = headScan{active: true}
	}
	deadline := c.deadline
	if !c.head.active {
		deadline = time.Now().Add(c.idle)
	}
	if err := c.Conn.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	if n > 0 && c.head.active {
		if bad := c.head.scan(p[:n]); bad >= 0 {
			// The bytes before the bare LF are handed on and the next read
			// fails: fasthttp takes an error on a response's very first
			// read for a stale connection (io.EOF) and retries, while one
			// after some bytes reaches the caller.
			c.broken = ErrOriginHead
			if bad > 0 {
				return bad, nil
			}
			return 0, c.broken
		}
	}
	if n == 0 && err == io.EOF {
		c.eof.Store(true)
	}
	// A timeout is returned as the runtime's own error: fasthttp recognises
	// it by its Timeout method, not by unwrapping.
	return n, err
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	now := time.Now()
	if err := c.Conn.SetWriteDeadline(now.Add(c.idle)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Write(p)
	c.writing = true
	c.deadline = now.Add(c.firstByte)
	return n, err
}

// headScan follows the response heads at the start of what an origin sends:
// where each ends (its empty line), whether it is interim (1xx other than
// 101: another head follows), and whether a line ends in a bare LF.
type headScan struct {
	active bool    // inside a head
	pos    int     // bytes of the current head so far
	line   int     // bytes of the current line, less CR
	cr     bool    // the previous byte was CR
	code   [3]byte // the status code, at bytes 9 to 11 of "HTTP/1.1 200"
}

// scan consumes b and returns the index of a bare LF in it, or -1. It stops
// at the end of the final head; the rest of b is body.
func (h *headScan) scan(b []byte) int {
	for i, c := range b {
		if h.pos >= 9 && h.pos < 12 {
			h.code[h.pos-9] = c
		}
		h.pos++
		switch c {
		case '\n':
			if !h.cr {
				return i
			}
			if h.line == 0 && h.pos > 2 {
				if h.code[0] != '1' || string(h.code[:]) == "101" {
					h.active = false
					return -1
				}
				*h = headScan{active: true} // an interim response: its final one follows
				continue
			}
			h.line = 0
		case '\r':
		default:
			h.line++
		}
		h.cr = c == '\r'
	}
	return -1
}

// SetDeadline, SetReadDeadline and SetWriteDeadline are no-ops: the deadlines
// are owned by Read and Write above.
func (c *deadlineConn) SetDeadline(time.Time) error      { return nil }
func (c *deadlineConn) SetReadDeadline(time.Time) error  { return nil }
func (c *deadlineConn) SetWriteDeadline(time.Time) error { return nil }
