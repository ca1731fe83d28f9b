package cache

import (
	"sync"

	"edgeproxy/codec"
)

// Writer states.
const (
	writing  = iota
	complete // Commit accepted the body: readers end with io.EOF
	failed   // aborted, too large or wrong length: readers end with err
)

// firstChunk is where the first chunk of a body of unknown length starts; it
// doubles up to chunkSize, so small bodies do not cost a whole chunk.
const firstChunk = 4 << 10

// Writer streams one origin response into the cache. Write, Commit and Abort
// are called from one goroutine (a worker, never an event loop); any number
// of FollowReaders may read the body while it is written.
type Writer struct {
	c        *Cache
	key      []byte // URL key
	names    []byte // lower-cased Vary field names; nil without Vary
	sec      []byte // secondary key of the request that caused the fill
	meta     meta   // freshness metadata; size and largeID are set by Commit
	block    []byte // stored header block; never changes, readers share it
	status   int
	length   int64 // declared Content-Length, or -1
	limit    int64 // MaxObject
	refuse   error // ErrNotStorable or ErrTooLarge when the response may not be stored or shared
	prefetch bool  // stored by a prefetch (MarkPrefetch)
	admitted bool  // admission voted for it already

	mu       sync.Mutex // guards the fields below; cond waits on it
	cond     sync.Cond  // signalled when size, state or a reader's closed flag changes
	chunks   [][]byte   // written body; bytes below size never change
	size     int64
	state    int
	err      error   // why the state is failed
	finished bool    // Commit or Abort has returned or is past storing
	flight   *Flight // the fill this writer leads, ended when it finishes
	readers  int     // FollowReaders not yet closed
}

// NewWriter starts storing the response described by m to req, under key
// (from AppendKey). It copies what it needs from req and m, whose views may
// die when it returns. The response is checked with Storable: a Writer for a
// response that may not be stored accepts writes, refuses Commit with
// ErrNotStorable and shares nothing with followers.
func (c *Cache) NewWriter(key []byte, req *codec.Request, m *Meta) *Writer {
	w := &Writer{
		c:      c,
		key:    append([]byte(nil), key...),
		status: m.Status,
		length: m.ContentLength,
		limit:  c.maxObject,
	}
	w.cond.L = &w.mu
	if m.ContentLength < 0 {
		w.length = -1
	}
	w.prefetch = m.Prefetch
	if len(key) == 0 || key[0] == 0 || !c.Storable(req, m) {
		w.refuse = ErrNotStorable
	}
	var d Directives
	headerDirectives(m.Header, &d)
	t := responseTimes(m)
	c.objectMeta(key, m.Status, &d, m.Header, t, &w.meta)
	if w.prefetch {
		w.meta.flags |= flagPrefetched
	}
	k := buildBlock(m.Header, timeOf(t.response))
	w.block = k.b
	w.meta.hdrLen = uint32(len(k.b))
	w.meta.etagOff, w.meta.etagLen = k.etagOff, k.etagLen
	w.meta.lmOff, w.meta.lmLen = k.lmOff, k.lmLen
	if names, _ := appendVaryNames(nil, m.Header); len(names) > 0 {
		w.names = names
		w.sec = appendSecondary(nil, names, req)
	}
	if w.refuse == nil && !c.fits(w) {
		w.refuse = ErrTooLarge
	}
	if w.refuse == nil && w.length >= 0 && !c.admitsAtStart(w) {
		w.refuse = ErrNotAdmitted
	}
	return w
}

// Refused returns why the object will not be stored, as far as is known
// before its body: ErrNotStorable, ErrTooLarge or ErrNotAdmitted; nil when
// it may be. A caller can drop such a writer at once rather than buffer a
// body for nothing.
func (w *Writer) Refused() error { return w.refuse }

// fits reports whether the keys, metadata and header block of w fit an
// entry: the body may go to tier L, the rest must go to freecache.
func (c *Cache) fits(w *Writer) bool {
	if w.names != nil && len(w.key)+varySize+len(w.names) > c.smallMax {
		return false
	}
	return w.objKeyLen() <= 65535 && c.inTierS(w, 0)
}

// objKeyLen is the length of the key w's object is stored under: the URL
// key, or under a Vary record a variant key.
func (w *Writer) objKeyLen() int {
	if w.names != nil {
		return variantPrefix + len(w.sec)
	}
	return len(w.key)
}

// inTierS reports whether w's object with a body of size bytes fits one
// freecache entry whole (tier S); a bigger body goes to tier L.
func (c *Cache) inTierS(w *Writer, size int64) bool {
	return int64(w.objKeyLen()+metaSize+len(w.block))+size <= int64(c.smallMax)
}

// Write appends body bytes. Past MaxObject it returns ErrTooLarge, past the
// declared Content-Length ErrLength; either kills the writer, which then
// stores nothing, and its readers get the same error after the bytes they
// have not read yet.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state != writing {
		if w.state == failed {
			return 0, w.err
		}
		return 0, ErrClosed
	}
	if w.size+int64(len(p)) > w.limit {
		w.failLocked(ErrTooLarge)
		return 0, ErrTooLarge
	}
	if w.length >= 0 && w.size+int64(len(p)) > w.length {
		w.failLocked(ErrLength)
		return 0, ErrLength
	}
	n := 0
	for n < len(p) {
		dst := w.room()
		// Bytes at and past size are invisible to readers, so the copy
		// needs no lock.
		w.mu.Unlock()
		k := copy(dst, p[n:])
		w.mu.Lock()
		if w.state != writing {
			return n, ErrClosed
		}
		w.size += int64(k)
		n += k
		w.cond.Broadcast()
	}
	return n, nil
}

// room returns the writable space after size, allocating or growing a chunk
// when the current one is full. Called with mu held.
func (w *Writer) room() []byte {
	i := int(w.size / chunkSize)
	off := int(w.size % chunkSize)
	if i == len(w.chunks) {
		var n int64
		switch {
		case w.length >= 0:
			n = min(w.length-int64(i)*chunkSize, chunkSize)
		case i == 0:
			n = firstChunk
		default:
			n = chunkSize
		}
		w.chunks = append(w.chunks, make([]byte, n))
	} else if off == len(w.chunks[i]) {
		// Only the first chunk of a body of unknown length is short.
		// Readers keep the old slice: its bytes stay valid.
		grown := make([]byte, min(2*len(w.chunks[i]), chunkSize))
		copy(grown, w.chunks[i][:off])
		w.chunks[i] = grown
	}
	return w.chunks[i][off:]
}

// failLocked ends the writer with err and wakes its readers. Called with mu
// held.
func (w *Writer) failLocked(err error) {
	w.state = failed
	w.err = err
	w.cond.Broadcast()
}

// Commit stores the object. It refuses a body shorter than the declared
// Content-Length (ErrLength), a response that may not be stored
// (ErrNotStorable), and bodies that do not fit (ErrTooLarge, ErrNoSpace).
// Storing is atomic: a concurrent Lookup finds either the previous state or
// the whole object. Followers see io.EOF as soon as the body is known to be
// complete, whether or not storing then succeeds.
func (w *Writer) Commit() error {
	w.mu.Lock()
	if w.state != writing {
		err := w.err
		w.mu.Unlock()
		if err == nil {
			err = ErrClosed
		}
		return err
	}
	if w.length >= 0 && w.size != w.length {
		w.failLocked(ErrLength)
		w.mu.Unlock()
		w.finish()
		return ErrLength
	}
	w.state = complete
	if n := len(w.chunks); n > 0 {
		w.chunks[n-1] = w.chunks[n-1][:w.size-int64(n-1)*chunkSize]
	}
	w.cond.Broadcast()
	w.mu.Unlock()
	err := w.refuse
	if err == nil {
		err = w.c.store(w)
	}
	w.finish()
	return err
}

// Abort drops the fill: nothing is stored, and readers get ErrAborted once
// they have read what was written. It is a no-op after Commit.
func (w *Writer) Abort() {
	w.mu.Lock()
	if w.state == writing {
		w.failLocked(ErrAborted)
	}
	w.mu.Unlock()
	w.finish()
}

// finish ends the flight this writer leads, once the object is stored or
// dropped: requests that join after that find it with Lookup instead.
func (w *Writer) finish() {
	w.mu.Lock()
	w.finished = true
	f := w.flight
	w.flight = nil
	w.mu.Unlock()
	if f != nil {
		f.end()
	}
}

// Status returns the response status.
func (w *Writer) Status() int { return w.status }

// Header returns the stored header block ("Name: value\r\n" lines). It never
// changes and may be kept.
func (w *Writer) Header() []byte { return w.block }
