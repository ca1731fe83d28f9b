package gopher

import (
	"bytes"
	"context"
	"io"
	"net"
	"time"
)

// DialFunc opens a TCP connection to addr (host:port).
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Conn is the answer to one request being read. It renews an idle deadline
// on every read.
type Conn struct {
	nc   net.Conn
	idle time.Duration
}

// Fetch connects to t within connect and sends its request line. The
// answer is read from the returned Conn, which the caller closes.
func Fetch(t *Target, dial DialFunc, connect, idle time.Duration) (*Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), connect)
	defer cancel()
	nc, err := dial(ctx, "tcp", t.Addr())
	if err != nil {
		return nil, err
	}
	_ = nc.SetWriteDeadline(time.Now().Add(idle))
	if _, err := io.WriteString(nc, t.Request()); err != nil {
		_ = nc.Close()
		return nil, err
	}
	return &Conn{nc: nc, idle: idle}, nil
}

// Peer is the server's address, for the access log.
func (c *Conn) Peer() net.Addr { return c.nc.RemoteAddr() }

func (c *Conn) Read(p []byte) (int, error) {
	if err := c.nc.SetReadDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.nc.Read(p)
}

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

// TextReader returns r without the line "." that ends a text item
// (RFC 1436 §3.9); servers that do not send one lose nothing.
func TextReader(r io.Reader) io.Reader { return &textReader{r: r} }

// hold is how many bytes textReader keeps back: enough for "\r\n.\r\n".
const hold = 5

type textReader struct {
	r    io.Reader
	buf  []byte // read and not yet returned: buf[off:]
	off  int
	sent int64
	eof  bool
}

func (t *textReader) Read(p []byte) (int, error) {
	for {
		avail := len(t.buf) - t.off
		ready := avail - hold
		if t.eof {
			ready = avail
		}
		if ready > 0 {
			n := copy(p, t.buf[t.off:t.off+ready])
			t.off += n
			t.sent += int64(n)
			return n, nil
		}
		if t.eof {
			return 0, io.EOF
		}
		copy(t.buf, t.buf[t.off:])
		t.buf, t.off = t.buf[:avail], 0
		if t.buf == nil {
			t.buf = make([]byte, 0, 32<<10)
		}
		n, err := t.r.Read(t.buf[avail:cap(t.buf)])
		t.buf = t.buf[:avail+n]
		switch {
		case err == io.EOF:
			t.eof = true
			t.trim()
		case err != nil:
			return 0, err
		}
	}
}

// trim drops the closing "." line from the held-back end of the text.
func (t *textReader) trim() {
	b := t.buf[t.off:]
	whole := t.sent == 0 // b is the whole text
	for _, end := range []string{"\r\n.\r\n", "\n.\n", "\r\n.", "\n."} {
		if bytes.HasSuffix(b, []byte(end)) {
			t.buf = t.buf[:len(t.buf)-len(end)+bytes.IndexByte([]byte(end), '.')]
			return
		}
	}
	if whole && (string(b) == ".\r\n" || string(b) == ".\n" || string(b) == ".") {
		t.buf = t.buf[:t.off]
	}
}
