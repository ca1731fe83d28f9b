package origin

import (
	"io"
	"net"
	"os"
	"time"

	"edgeproxy/codec"
)

// detachBuffer is the read buffer of a detached body.
const detachBuffer = 64 << 10

// Detached is a response body that left the event loop: gnet cannot stop
// reading a socket, so a body larger than a client takes at once is read by
// a goroutine instead, through Go's poller, and TCP flow control slows the
// origin down to the client's pace. It reads the body decoded, ending with
// io.EOF exactly where the message ends. The connection is never reused.
type Detached struct {
	nc    net.Conn
	body  codec.BodyDecoder
	idle  time.Duration
	store []byte
	buf   []byte // received, not yet decoded: a view into store
	pend  []byte // decoded, not yet returned: a view into store
}

// Detach hands the rest of the response to the caller, from inside OnHead
// for the final head or from inside OnBody: the socket is duplicated and
// leaves the loop, with the bytes already read and not yet handed to
// OnBody. No callback runs for ex afterwards. The caller must Close the
// result.
func (ex *Exchange) Detach() (*Detached, error) {
	oc := ex.conn
	if oc == nil || oc.ex != ex || (oc.state != stHead && oc.state != stBody) || oc.resp.Interim() {
		return nil, net.ErrClosed
	}
	fd, err := oc.c.Dup()
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "origin")
	nc, err := net.FileConn(f)
	_ = f.Close()
	if err != nil {
		return nil, err
	}
	d := &Detached{nc: nc, idle: oc.p.cfg.IdleTimeout}
	d.store = make([]byte, max(detachBuffer, 2*len(oc.rest)))
	d.buf = d.store[:copy(d.store, oc.rest)]
	if oc.state == stHead {
		d.body.Reset(&oc.resp)
	} else {
		d.body = oc.body // mid-body: the decoder goes on where it stands
	}
	oc.ex, ex.conn, ex.ended = nil, nil, true
	oc.close()
	return d, nil
}

// Read returns decoded body bytes. A body cut short by the origin's close
// yields ErrClosed, a stall of the idle timeout ErrIdleTimeout, bad framing
// ErrMalformed.
func (d *Detached) Read(p []byte) (int, error) {
	for {
		if len(d.pend) > 0 {
			n := copy(p, d.pend)
			d.pend = d.pend[n:]
			return n, nil
		}
		if d.body.Done() {
			return 0, io.EOF
		}
		if len(d.buf) > 0 {
			k, data, _, err := d.body.Decode(d.buf)
			d.buf = d.buf[k:]
			if len(data) > 0 {
				d.pend = data
				continue
			}
			if err != nil {
				return 0, malformed(err)
			}
			if k > 0 {
				continue
			}
		}
		n := copy(d.store, d.buf)
		_ = d.nc.SetReadDeadline(time.Now().Add(d.idle))
		m, err := d.nc.Read(d.store[n:])
		d.buf = d.store[:n+m]
		if m > 0 {
			continue
		}
		switch {
		case err == io.EOF:
			if d.body.EOF() != nil {
				return 0, ErrClosed
			}
			return 0, io.EOF
		case err != nil:
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return 0, ErrIdleTimeout
			}
			return 0, err
		}
	}
}

// Close closes the detached connection.
func (d *Detached) Close() error { return d.nc.Close() }
