package engine

import (
	"net"
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// sink is where a worker writes a response: a gnet connection through
// AsyncWrite, or a detached socket.
type sink interface {
	// buffer returns an empty buffer for a response head.
	buffer() []byte
	// write sends the concatenation of a, b and c (nil parts are skipped).
	// The slices must stay untouched until the next write or end.
	write(a, b, c []byte) error
	// end finishes the exchange: closes the connection when close is set,
	// otherwise hands it back to request parsing.
	end(close bool)
	// abort closes the connection at once: the response was cut short.
	abort()
	// recycle returns read buffers; called after end or abort, when no write
	// refers to them any more.
	recycle(a, b *[chunk]byte)
}

// chunks pools the buffers that origin bodies are read into.
var chunks = sync.Pool{New: func() any { return new([chunk]byte) }}

func getChunk() *[chunk]byte { return chunks.Get().(*[chunk]byte) }

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
	onWrite gnet.AsyncCallback
	onEnd   gnet.AsyncCallback
}

func (s *asyncSink) init(c gnet.Conn, ex *exchange) {
	s.c, s.ex = c, ex
	s.done = make(chan writeResult, 1)
	s.onWrite = s.written
	s.onEnd = s.ended
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
	v := s.vec[:0]
	for _, p := range [3][]byte{a, b, c} {
		if len(p) > 0 {
			v = append(v, p)
		}
	}
	if len(v) == 0 {
		return nil
	}
	if err := s.c.AsyncWritev(v, s.onWrite); err != nil {
		return err
	}
	s.pending = true
	return nil
}

func (s *asyncSink) end(close bool) {
	limit := watermark
	if close {
		// gnet drops what it still holds when a connection closes, so a
		// closing response waits until the client has everything.
		limit = 0
	}
	if err := s.wait(limit); err != nil {
		return
	}
	if close {
		_ = s.c.Close()
		return
	}
	_ = s.c.Wake(s.onEnd)
}

// ended runs on the loop when an exchange is over: the connection goes back
// to parsing, and requests pipelined behind this one are answered now.
func (s *asyncSink) ended(c gnet.Conn, err error) error {
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
	_ = s.c.Close()
}

func (s *asyncSink) recycle(a, b *[chunk]byte) { putChunks(a, b) }

func putChunks(a, b *[chunk]byte) {
	chunks.Put(a)
	chunks.Put(b)
}
