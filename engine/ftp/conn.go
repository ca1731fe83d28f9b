package ftp

import (
	"context"
	"net"
	"sync"
	"time"
)

// MaxLine bounds a reply line on the control connection and a line of a
// directory listing. RFC 959 sets no limit; a path of a few hundred bytes
// is long, and without a bound textproto would buffer a line that never
// ends until memory runs out.
const MaxLine = 8 << 10

// MaxListing bounds a directory listing: it is read whole and rendered in
// memory, so a server could otherwise make the proxy hold any amount.
const MaxListing = 8 << 20

// DialFunc opens a TCP connection to addr (host:port). The engine passes one
// that applies its destination checks.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// dialer opens a session's connections. The first is the control
// connection; every later one is a data connection and goes to the control
// peer's address, whatever host the server named.
type dialer struct {
	dial    DialFunc
	connect time.Duration // per dial
	idle    time.Duration // per read or write

	mu      sync.Mutex // protects the fields below; Close may run on another goroutine
	peer    net.IP     // the control connection's peer
	control net.Conn
	data    net.Conn // the latest data connection
	listing bool     // the next data connection carries a listing
	closed  bool
}

func (d *dialer) dialFunc(network, addr string) (net.Conn, error) {
	d.mu.Lock()
	peer, listing := d.peer, d.listing
	d.mu.Unlock()
	if peer != nil {
		// A data connection: only the port of the server's reply is used
		// (RFC 2577 §3, the FTP bounce).
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		addr = net.JoinHostPort(peer.String(), port)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.connect)
	defer cancel()
	nc, err := d.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c := &limitConn{Conn: nc, idle: d.idle}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		_ = nc.Close()
		return nil, net.ErrClosed
	}
	if peer == nil {
		c.maxLine = MaxLine
		d.control = nc
		if ta, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
			d.peer = ta.IP
		}
	} else {
		if listing {
			c.maxLine, c.maxTotal = MaxLine, MaxListing
		}
		d.data = nc
	}
	return c, nil
}

// setListing marks whether the next data connection carries a listing.
func (d *dialer) setListing(on bool) {
	d.mu.Lock()
	d.listing = on
	d.mu.Unlock()
}

// close closes every connection the dialer opened, at once, without
// waiting for any reply.
func (d *dialer) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	for _, c := range []net.Conn{d.data, d.control} {
		if c != nil {
			_ = c.Close()
		}
	}
}

// limitConn renews an idle deadline before every read and write, and
// refuses a line longer than maxLine and more than maxTotal bytes (each
// when > 0).
type limitConn struct {
	net.Conn
	idle     time.Duration
	maxLine  int
	line     int // bytes since the last LF
	maxTotal int // bytes that may be read in all, when > 0
	total    int
}

func (c *limitConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	if c.total += n; c.maxTotal > 0 && c.total > c.maxTotal {
		return 0, ErrListingTooLarge
	}
	if c.maxLine > 0 {
		for _, b := range p[:n] {
			if b == '\n' {
				c.line = 0
				continue
			}
			if c.line++; c.line > c.maxLine {
				return 0, ErrLineTooLong
			}
		}
	}
	return n, err
}

func (c *limitConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}
