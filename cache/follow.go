package cache

import (
	"io"
	"time"
)

// FollowReader reads the body of a response while its Writer is still
// writing it (collapsed forwarding). It starts at the first byte however late
// it is created, since a Writer keeps every chunk until it and all its
// readers are gone; that memory is bounded by MaxObject per fill, because a
// body that grows past MaxObject ends the fill with ErrTooLarge for writer
// and readers alike. A FollowReader is used by one goroutine; Close may be
// called from another to wake it.
type FollowReader struct {
	w      *Writer
	off    int64
	closed bool // guarded by w.mu
}

// NewReader returns a reader of the body w is writing, from its first byte.
// The reader of a Writer whose response may not be stored or shared returns
// ErrNotShared.
func (w *Writer) NewReader() *FollowReader {
	w.mu.Lock()
	w.readers++
	w.mu.Unlock()
	return &FollowReader{w: w}
}

// Followed reports whether any reader of w is still open: another client
// reads the body as it arrives, so the fetch must not be abandoned.
func (w *Writer) Followed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.readers > 0
}

// Read reads the next bytes of the body, blocking until the writer writes
// more, commits (then io.EOF after the last byte) or fails (then, after the
// bytes written so far, ErrAborted, ErrTooLarge or ErrLength). A follower
// that gets an error other than io.EOF has an incomplete body; it has to
// fetch for itself, or close its client connection if it has already sent
// part of the response.
func (r *FollowReader) Read(p []byte) (int, error) {
	w := r.w
	if w.refuse != nil {
		return 0, ErrNotShared
	}
	if len(p) == 0 {
		return 0, nil
	}
	w.mu.Lock()
	for {
		if r.closed {
			w.mu.Unlock()
			return 0, ErrClosed
		}
		if r.off < w.size {
			break
		}
		switch w.state {
		case complete:
			w.mu.Unlock()
			return 0, io.EOF
		case failed:
			err := w.err
			w.mu.Unlock()
			return 0, err
		}
		w.cond.Wait()
	}
	i := r.off / chunkSize
	end := min(w.size, (i+1)*chunkSize) - i*chunkSize
	avail := w.chunks[i][r.off%chunkSize : end]
	w.mu.Unlock()
	n := copy(p, avail)
	r.off += int64(n)
	return n, nil
}

// Close ends the reader and wakes a Read blocked in it.
func (r *FollowReader) Close() {
	r.w.mu.Lock()
	if !r.closed {
		r.w.readers--
	}
	r.closed = true
	r.w.cond.Broadcast()
	r.w.mu.Unlock()
}

// Status returns the response status.
func (r *FollowReader) Status() int { return r.w.status }

// Header returns the stored header block ("Name: value\r\n" lines, no Age,
// no Content-Length). It never changes.
func (r *FollowReader) Header() []byte { return r.w.block }

// Size returns the declared body length, or -1 when the origin sent none.
func (r *FollowReader) Size() int64 { return r.w.length }

// Age returns the response's current_age at now (RFC 9111 §4.2.3), for the
// Age field of the follower's response.
func (r *FollowReader) Age(now time.Time) time.Duration {
	return time.Duration(currentAge(&r.w.meta, now.UnixNano()))
}
