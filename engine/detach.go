package engine

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"

	"edgeproxy/codec"
)

// detachUpload hands a connection whose request body is too large to
// buffer (or chunked) to a goroutine. gnet reads every socket as fast as
// data comes and has no way to pause, so a fast client uploading to a slow
// origin would fill the proxy's memory; a socket driven by Go's net package
// is read only as fast as the origin takes the body, and TCP flow control
// slows the client down. The duplicated descriptor keeps the socket open
// when gnet closes its own; the bytes gnet already read are carried over.
func (cc *clientConn) detachUpload(ex *exchange, r *codec.Request, n int, buf []byte) gnet.Action {
	fd, act, ok := cc.prepareDetach(r, n)
	if !ok {
		ex.release()
		return act
	}
	ex.upload = upload{
		leftover:  append([]byte(nil), buf[n:]...),
		length:    r.ContentLength,
		chunked:   r.Chunked,
		expect100: r.Expect100,
	}
	if err := cc.s.submit(cc.remote, func() { ex.runDetached(fd) }); err != nil {
		return cc.undoDetach(r, n, fd, err, ex.release)
	}
	return gnet.Close
}

// prepareDetach duplicates the socket. A detach waits while gnet still
// holds an earlier response for the client, since closing the gnet side
// would drop it: the request stays unparsed in the buffer and the loop
// looks again shortly.
func (cc *clientConn) prepareDetach(r *codec.Request, n int) (fd int, act gnet.Action, ok bool) {
	if cc.c.OutboundBuffered() > 0 {
		cc.state = stWait
		wakeLater(cc.c, time.Millisecond)
		return 0, gnet.None, false
	}
	fd, err := cc.c.Dup()
	if err != nil {
		return 0, cc.refuse(r, n, err), false
	}
	cc.state = stDetached
	cc.s.inflight.Add(1)
	return fd, gnet.None, true
}

// undoDetach reverses prepareDetach when no worker could take the job.
func (cc *clientConn) undoDetach(r *codec.Request, n int, fd int, err error, release func()) gnet.Action {
	cc.s.inflight.Add(-1)
	_ = syscall.Close(fd)
	cc.state = stIdle
	release()
	return cc.refuseWith(r, n, err, "", true)
}

// upload is the state of a request body streamed from a detached socket.
type upload struct {
	leftover  []byte // body bytes gnet had read before the detach
	length    int64
	chunked   bool
	expect100 bool
}

// runDetached serves one exchange whose body streams from the socket.
func (ex *exchange) runDetached(fd int) {
	defer ex.s.inflight.Add(-1)
	defer ex.release()
	defer ex.logDone()
	nc, err := fileConn(fd)
	if err != nil {
		ex.s.closeConn(ex.cc.remote)
		ex.s.log.Warn("detach failed", "err", err)
		return
	}
	ex.nc = nc
	ex.body = newBodyReader(nc, ex.upload, ex.s.set.idle)
	ex.body.setMinRate(ex.s.set.bodyWindow, ex.s.set.minBodyRate)
	if ex.dreq != nil {
		// Expect: 100-continue goes to the origin, and its 100 (or the
		// proxy's own, once the body is due) back (fetchDirect).
		ex.roundTrip(&connSink{ex: ex, nc: nc, idle: ex.s.set.idle})
		return
	}
	if ex.upload.expect100 {
		_, _ = nc.Write(continue100)
	}
	size := int(ex.upload.length)
	if ex.upload.chunked {
		size = -1
	}
	ex.req.SetBodyStream(ex.body, size)
	ex.roundTrip(&connSink{ex: ex, nc: nc, idle: ex.s.set.idle})
}

// fileConn turns a duplicated descriptor into a net.Conn driven by Go's
// poller.
func fileConn(fd int) (net.Conn, error) {
	f := os.NewFile(uintptr(fd), "client")
	defer f.Close() //nolint:errcheck // FileConn holds its own duplicate
	return net.FileConn(f)
}

// connSink writes a response to a detached socket with blocking writes: the
// kernel's send buffer is the only queue.
type connSink struct {
	ex   *exchange
	nc   net.Conn
	idle time.Duration
	head []byte
	vec  net.Buffers
	readBufs
}

func (w *connSink) buffer() []byte {
	if w.head == nil {
		w.head = make([]byte, 0, 1024)
	}
	return w.head[:0]
}

func (w *connSink) write(a, b, c []byte) error {
	if err := w.nc.SetWriteDeadline(time.Now().Add(w.idle)); err != nil {
		return err
	}
	w.vec = append(w.vec[:0], a, b, c)
	n, err := w.vec.WriteTo(w.nc)
	w.ex.sent += n
	return err
}

// finish writes the last bytes, then closes the socket or enrolls it back
// into its event loop for the next request on this keep-alive connection.
func (w *connSink) finish(a, b, c []byte, close bool) {
	err := w.write(a, b, c)
	w.free()
	if close || err != nil {
		w.abort()
		return
	}
	cc := w.ex.cc
	ch, err := cc.l.el.Enroll(gnet.NewContext(context.Background(), cc), w.nc)
	if err != nil {
		w.abort()
		return
	}
	if res := <-ch; res.Err != nil {
		w.ex.s.closeConn(w.ex.cc.remote)
	}
}

func (w *connSink) abort() {
	w.free()
	if !w.ex.body.done() {
		lingeringClose(w.nc)
	}
	_ = w.nc.Close()
	w.ex.s.closeConn(w.ex.cc.remote)
}

// lingeringClose ends a connection whose client may still be sending a
// request body. Closing a socket with unread input makes the kernel send a
// reset, and the client may then lose the response it was sent; so the
// write side is shut first and input is read and discarded for a bounded
// time and amount, as nginx's lingering_close does.
func lingeringClose(nc net.Conn) {
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_ = nc.SetReadDeadline(time.Now().Add(lingerTime))
	_, _ = io.CopyN(io.Discard, nc, lingerBytes)
}

// A lingering close reads at most lingerBytes for at most lingerTime.
const (
	lingerTime  = 2 * time.Second
	lingerBytes = 64 << 20
)

// bodyReader yields a request body from a detached socket: Content-Length
// bytes, or the data of a chunked body decoded by codec.ChunkedDecoder.
// Each Read hands on as much as is already buffered, so a body sent in many
// small chunks reaches the origin in few large writes (origin.Client writes
// one piece per Read).
type bodyReader struct {
	nc       net.Conn
	br       *bufio.Reader
	clock    bodyClock
	left     int64 // Content-Length bytes still to read
	chunked  bool
	dec      codec.ChunkedDecoder
	rest     []byte // decoded bytes that did not fit the caller's buffer
	finished bool
	total    int64 // body bytes handed on
	err      error // the first error reading the socket
}

func newBodyReader(nc net.Conn, u upload, idle time.Duration) *bodyReader {
	b := &bodyReader{nc: nc, left: u.length, chunked: u.chunked}
	b.clock = bodyClock{nc: nc, idle: idle, body: b}
	src := io.MultiReader(bytes.NewReader(u.leftover), &b.clock)
	b.br = bufio.NewReaderSize(src, 64<<10)
	return b
}

// bodyClock reads a request body from the client socket and holds it to a
// minimum rate, as Apache's mod_reqtimeout body=window,MinRate=rate does:
// the client has window, plus one second per rate bytes it has sent, of
// time spent waiting for it. Only time blocked reading the socket counts;
// time the origin takes to accept the body does not. A client that falls
// behind gets ErrBodyTimeout, as does one silent for idle.
type bodyClock struct {
	nc     net.Conn
	idle   time.Duration
	window time.Duration
	rate   int64 // bytes per second; 0: no rate, idle only
	waited time.Duration
	got    int64
	body   *bodyReader
}

// setMinRate holds the body to rate bytes per second after window.
func (b *bodyReader) setMinRate(window time.Duration, rate int64) {
	b.clock.window, b.clock.rate = window, rate
}

func (c *bodyClock) Read(p []byte) (int, error) {
	wait := c.idle
	if c.rate > 0 {
		allowed := c.window + time.Duration(c.got*int64(time.Second)/c.rate) - c.waited
		if allowed <= 0 {
			return 0, c.fail(ErrBodyTimeout)
		}
		wait = min(wait, allowed)
	}
	start := time.Now()
	_ = c.nc.SetReadDeadline(start.Add(wait))
	n, err := c.nc.Read(p)
	c.waited += time.Since(start)
	c.got += int64(n)
	if err != nil && isTimeout(err) {
		err = errors.Join(ErrBodyTimeout, err)
	}
	if err != nil && err != io.EOF {
		c.fail(err)
	}
	return n, err
}

func (c *bodyClock) fail(err error) error {
	if c.body.err == nil {
		c.body.err = err
	}
	return err
}

// timedOut reports whether the body failed its rate or idle limit.
func (b *bodyReader) timedOut() bool { return errors.Is(b.err, ErrBodyTimeout) }

// done reports whether the whole body was read and handed on.
func (b *bodyReader) done() bool { return b.finished && len(b.rest) == 0 }

// buffered reports bytes read past the body: a request pipelined behind it.
func (b *bodyReader) buffered() int { return b.br.Buffered() }

func (b *bodyReader) Read(p []byte) (n int, err error) {
	defer func() { b.total += int64(n) }()
	if len(b.rest) > 0 {
		n := copy(p, b.rest)
		b.rest = b.rest[n:]
		return n, nil
	}
	if b.finished {
		return 0, io.EOF
	}
	if !b.chunked {
		if b.left <= 0 {
			b.finished = true
			return 0, io.EOF
		}
		if int64(len(p)) > b.left {
			p = p[:b.left]
		}
		n, err := b.br.Read(p)
		b.left -= int64(n)
		if b.left == 0 {
			b.finished = true
		}
		if err == io.EOF && b.left > 0 {
			err = ErrBodyLength
		}
		return n, err
	}
	return b.readChunked(p)
}

func (b *bodyReader) readChunked(p []byte) (int, error) {
	n, err := b.readChunk(p, true)
	// Small chunks already buffered are handed on together, without waiting
	// for the socket.
	for err == nil && n < len(p) && !b.finished && len(b.rest) == 0 && b.br.Buffered() > 0 {
		m, err2 := b.readChunk(p[n:], false)
		n += m
		if m == 0 || err2 != nil {
			break
		}
	}
	return n, err
}

// readChunk decodes what the buffer holds into p. With wait it reads the
// socket until it has data to return; without, it returns 0 when the
// buffer holds no whole chunk data.
func (b *bodyReader) readChunk(p []byte, wait bool) (int, error) {
	for {
		if b.br.Buffered() == 0 {
			if !wait {
				return 0, nil
			}
			if _, err := b.br.Peek(1); err != nil {
				if err == io.EOF {
					err = ErrBodyLength
				}
				return 0, err
			}
		}
		data, _ := b.br.Peek(b.br.Buffered())
		used, body, done, derr := b.dec.Decode(data)
		if derr != nil {
			return 0, derr
		}
		n := copy(p, body)
		if n < len(body) {
			b.rest = append(b.rest[:0], body[n:]...)
		}
		_, _ = b.br.Discard(used)
		if done {
			b.finished = true
		}
		if n > 0 || done {
			if done && n == 0 {
				return 0, io.EOF
			}
			return n, nil
		}
		if used == 0 {
			if !wait {
				return 0, nil
			}
			// The decoder needs more than is buffered: wait for more bytes.
			if _, err := b.br.Peek(b.br.Buffered() + 1); err != nil {
				if err == io.EOF {
					err = ErrBodyLength
				}
				return 0, err
			}
		}
	}
}
