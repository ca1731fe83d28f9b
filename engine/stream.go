package engine

import (
	"net"
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// sink is where a worker writes a response: a gnet connection through
// AsyncWrite, or a detached socket. A sink owns the buffers the response is
// built in, and frees them once no write refers to them.
type sink interface {
	// buffer returns an empty buffer for a response head.
	buffer() []byte
	// chunk returns read buffer i (0 or 1) for body data.
	chunk(i int) *[chunk]byte
	// write sends the concatenation of a, b and c (nil parts are skipped).
	// The slices must stay untouched until the next write or finish.
	write(a, b, c []byte) error
	// finish sends the last bytes (any may be nil) and ends the exchange:
	// the connection closes when close is set, otherwise it goes back to
	// request parsing. The sink must not be used afterwards.
	finish(a, b, c []byte, close bool)
	// abort closes the connection at once: the response was cut short.
	abort()
}

// chunks pools the buffers that origin bodies are read into.
var chunks = sync.Pool{New: func() any { return new([chunk]byte) }}

func getChunk() *[chunk]byte { return chunks.Get().(*[chunk]byte) }

// readBufs are the two read buffers a sink owns, taken from the pool when
// first used.
type readBufs struct {
	bufs [2]*[chunk]byte
}

func (r *readBufs) chunk(i int) *[chunk]byte {
	if r.bufs[i] == nil {
		r.bufs[i] = getChunk()
	}
	return r.bufs[i]
}

// free returns the read buffers; only when no write refers to them.
func (r *readBufs) free() {
	for i, b := range r.bufs {
		if b != nil {
			chunks.Put(b)
			r.bufs[i] = nil
		}
	}
}

// writeResult is what an AsyncWrite callback reports to the waiting worker.
type writeResult struct {
	err      error
	buffered int // bytes gnet still holds for the client
}

// asyncSink writes to a connection owned by an event loop. At most one
// AsyncWrite is in flight; before the next one the worker waits for its
// callback and then, as long as gnet holds more than watermark bytes for the
// client, polls until the client has read them. gnet has no "drained"
// event (see NOTES-STACK), so the poll backs off from 100µs to 20ms; a
// client that reads slowly costs a sleeping worker, not memory.
type asyncSink struct {
	c       gnet.Conn
	ex      *exchange
	done    chan writeResult
	pending bool
	vec     [3][]byte
	head    []byte
	readBufs
	onWrite gnet.AsyncCallback
	onEnd   gnet.AsyncCallback
}

// init binds the sink to its connection and exchange. The channel and the
// callbacks a worker needs are made by the first send: most exchanges are
// answered on the loop and never use the sink, and a method value and a
// channel are three allocations per request (pass-1k-c64's profile).
func (s *asyncSink) init(c gnet.Conn, ex *exchange) {
	s.c, s.ex = c, ex
}

func (s *asyncSink) buffer() []byte {
	if s.head == nil {
		s.head = make([]byte, 0, 1024)
	}
	return s.head[:0]
}

// written runs on the loop after each write attempt.
func (s *asyncSink) written(c gnet.Conn, err error) error {
	if err == nil && s.ex.cc.closed {
		err = net.ErrClosed
	}
	r := writeResult{err: err}
	if err == nil {
		r.buffered = c.OutboundBuffered()
	}
	s.done <- r
	return nil
}

// wait waits for the write in flight, then until gnet holds at most limit
// bytes for this client.
func (s *asyncSink) wait(limit int) error {
	if !s.pending {
		return nil
	}
	s.pending = false
	r := s.result()
	for backoff := 100 * time.Microsecond; r.err == nil && r.buffered > limit; {
		time.Sleep(backoff)
		backoff = min(backoff*2, 20*time.Millisecond)
		if err := s.c.Wake(s.onWrite); err != nil {
			return err
		}
		r = s.result()
	}
	return r.err
}

// result waits for a callback. Once the engine has stopped, queued callbacks
// never run, so the wait ends with the engine.
func (s *asyncSink) result() writeResult {
	select {
	case r := <-s.done:
		return r
	case <-s.ex.s.stopped:
		return writeResult{err: net.ErrClosed}
	}
}

func (s *asyncSink) write(a, b, c []byte) error {
	if err := s.wait(watermark); err != nil {
		return err
	}
	return s.send(a, b, c, false)
}

// send starts one AsyncWritev of the non-empty parts; the callback of the
// final one ends the exchange on the loop.
func (s *asyncSink) send(a, b, c []byte, final bool) error {
	if s.done == nil { // first use, on the worker, before any callback can run
		s.done = make(chan writeResult, 1)
		s.onWrite = s.written
		s.onEnd = s.ended
	}
	cb := s.onWrite
	if final {
		cb = s.onEnd
	}
	v := s.vec[:0]
	for _, p := range [3][]byte{a, b, c} {
		if len(p) > 0 {
			v = append(v, p)
		}
	}
	if len(v) == 0 {
		if final {
			return s.c.Wake(cb)
		}
		return nil
	}
	s.ex.sent += int64(len(a) + len(b) + len(c))
	if err := s.c.AsyncWritev(v, cb); err != nil {
		return err
	}
	s.pending = true
	return nil
}

// finish ends the exchange. A connection that stays open gets its last
// write with a callback that frees the buffers and resumes parsing on the
// loop, so the worker returns at once instead of waiting for it. A closing
// connection waits until the client has everything: gnet drops what it
// still holds when a connection closes.
func (s *asyncSink) finish(a, b, c []byte, close bool) {
	if err := s.wait(watermark); err != nil {
		s.free()
		return
	}
	if !close {
		if err := s.send(a, b, c, true); err != nil {
			s.free()
		}
		return
	}
	if err := s.send(a, b, c, false); err == nil {
		err = s.wait(0)
	}
	s.free()
	_ = s.c.Close()
}

// ended runs on the loop after the last write of an exchange: the buffers
// are freed, the connection goes back to parsing, and requests pipelined
// behind this one are answered now.
func (s *asyncSink) ended(c gnet.Conn, err error) error {
	s.free()
	cc := s.ex.cc
	if err != nil || cc.closed || cc.c != c {
		return nil
	}
	cc.idle()
	if c.InboundBuffered() > 0 && cc.onTraffic() == gnet.Close {
		_ = c.Close()
	}
	return nil
}

func (s *asyncSink) abort() {
	_ = s.wait(1 << 62)
	s.free()
	_ = s.c.Close()
}
