package cache

import (
	"io"
	"sync"

	"github.com/cespare/xxhash/v2"
)

// chunkSize is the size of a body chunk. Bodies are written into chunks of
// this size (the first one grows up to it when the length is unknown, the
// last one is cut to fit when it is known), and tier L keeps the chunks as
// they were written: committing a large body copies nothing.
//
// Chunks are plain allocations, not pooled. A chunk is freed by the garbage
// collector once no Ref, Writer or FollowReader can reach it, so a missing or
// extra Release can skew the byte accounting but can never hand a chunk that
// a response is still sending to another object. The reference counts exist
// to keep that accounting honest: an evicted object still being sent keeps
// counting against LargeMemory until its last Release.
const chunkSize = 256 << 10

// Ref is a body held by tier L. Its chunks never change. Lookup passes a Ref
// in Hit.Large that is valid only during the callback; Retain it there to
// send the body afterwards, and Release it when the write has finished.
type Ref struct {
	l      *large
	id     uint64
	url    string   // primary key, for Invalidate
	chunks [][]byte // the body, each chunk but the last chunkSize long
	size   int64
	cost   int64 // bytes accounted: the capacity of the chunks

	// Guarded by l.mu.
	refs       int32
	linked     bool // in the index and on the LRU list
	prev, next *Ref // LRU list neighbours
}

// Size returns the body length.
func (r *Ref) Size() int64 { return r.size }

// Chunk returns a view of the body from off to the end of the chunk holding
// off, or nil when off is outside the body. Sending a body is a loop of
// Chunk(off), write, off += len. The view is valid until Release.
func (r *Ref) Chunk(off int64) []byte {
	if off < 0 || off >= r.size {
		return nil
	}
	return r.chunks[off/chunkSize][off%chunkSize:]
}

// ReadAt implements io.ReaderAt over the body.
func (r *Ref) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		c := r.Chunk(off + int64(n))
		if c == nil {
			return n, io.EOF
		}
		n += copy(p[n:], c)
	}
	return n, nil
}

// Retain adds a reference. Call it only while holding one: inside the Lookup
// callback, or on a Ref already retained.
func (r *Ref) Retain() {
	r.l.mu.Lock()
	if r.refs <= 0 {
		r.l.mu.Unlock()
		panic("cache: Retain of a Ref that is not held")
	}
	r.refs++
	r.l.mu.Unlock()
}

// Release drops a reference taken by Retain. The bytes of an evicted object
// are returned to the tier's budget when its last reference goes.
func (r *Ref) Release() { r.l.release(r) }

// large is tier L: bodies too big for a freecache entry, bounded by bytes and
// evicted least recently used first. freecache keeps each object's metadata
// and header block with the object's id; this index maps ids to bodies, and
// URLs to their objects so Invalidate can drop every variant at once.
type large struct {
	mu        sync.Mutex // guards every field below and the guarded fields of every Ref
	limit     int64
	used      int64 // bytes of objects not yet freed: linked, or evicted and still referenced
	pinned    int64 // of used: evicted objects waiting for their last Release
	nextID    uint64
	byID      map[uint64]*Ref
	byURL     map[string][]*Ref
	head      *Ref // most recently used
	tail      *Ref // least recently used: evicted first
	evictions int64
	onEvict   func(urlHash uint64) // told of each object evicted for room; may be nil
}

func newLarge(limit int64) *large {
	return &large{limit: limit, byID: make(map[uint64]*Ref), byURL: make(map[string][]*Ref)}
}

// insert adds a body, evicting least recently used objects until it fits.
// It fails with ErrNoSpace when the bytes still referenced by evicted objects
// leave no room.
func (l *large) insert(url string, chunks [][]byte, size int64) (*Ref, error) {
	var cost int64
	for _, c := range chunks {
		cost += int64(cap(c))
	}
	if cost > l.limit {
		return nil, ErrTooLarge
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.used+cost > l.limit && l.tail != nil {
		victim := l.tail
		l.unlink(victim)
		l.evictions++
		if l.onEvict != nil {
			l.onEvict(xxhash.Sum64String(victim.url))
		}
	}
	if l.used+cost > l.limit {
		return nil, ErrNoSpace
	}
	l.nextID++
	r := &Ref{l: l, id: l.nextID, url: url, chunks: chunks, size: size, cost: cost, linked: true}
	l.used += cost
	l.byID[r.id] = r
	l.byURL[url] = append(l.byURL[url], r)
	l.pushFront(r)
	return r, nil
}

// full reports whether adding cost bytes would evict stored objects.
func (l *large) full(cost int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.used+cost > l.limit
}

// acquire returns the object with id, referenced and marked recently used,
// or nil when it has been evicted.
func (l *large) acquire(id uint64) *Ref {
	l.mu.Lock()
	r := l.byID[id]
	if r != nil {
		r.refs++
		if l.head != r {
			l.unlist(r)
			l.pushFront(r)
		}
	}
	l.mu.Unlock()
	return r
}

// release drops one reference, freeing an evicted object's bytes with the
// last one.
func (l *large) release(r *Ref) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.refs <= 0 {
		panic("cache: Release of a Ref more times than it was retained")
	}
	r.refs--
	if r.refs == 0 && !r.linked {
		l.used -= r.cost
		l.pinned -= r.cost
	}
}

// remove unlinks the object with id, if it is still there.
func (l *large) remove(id uint64) {
	l.mu.Lock()
	if r := l.byID[id]; r != nil {
		l.unlink(r)
	}
	l.mu.Unlock()
}

// dropURL unlinks every object stored for url and returns how many there were.
func (l *large) dropURL(url []byte) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	victims := append([]*Ref(nil), l.byURL[string(url)]...)
	for _, r := range victims {
		l.unlink(r)
	}
	return len(victims)
}

// unlink takes r out of the index and the LRU list. Its bytes are freed now
// if nothing references it, or else by the last release.
func (l *large) unlink(r *Ref) {
	if !r.linked {
		return
	}
	r.linked = false
	l.unlist(r)
	delete(l.byID, r.id)
	rs := l.byURL[r.url]
	for i := range rs {
		if rs[i] == r {
			rs[i] = rs[len(rs)-1]
			rs[len(rs)-1] = nil
			rs = rs[:len(rs)-1]
			break
		}
	}
	if len(rs) == 0 {
		delete(l.byURL, r.url)
	} else {
		l.byURL[r.url] = rs
	}
	if r.refs == 0 {
		l.used -= r.cost
	} else {
		l.pinned += r.cost
	}
}

func (l *large) pushFront(r *Ref) {
	r.prev, r.next = nil, l.head
	if l.head != nil {
		l.head.prev = r
	}
	l.head = r
	if l.tail == nil {
		l.tail = r
	}
}

func (l *large) unlist(r *Ref) {
	if r.prev != nil {
		r.prev.next = r.next
	} else {
		l.head = r.next
	}
	if r.next != nil {
		r.next.prev = r.prev
	} else {
		l.tail = r.prev
	}
	r.prev, r.next = nil, nil
}

// stats adds tier L's figures to s.
func (l *large) stats(s *Stats) {
	l.mu.Lock()
	s.LargeObjects = int64(len(l.byID))
	s.LargeBytes = l.used
	s.LargeCapacity = l.limit
	s.LargePinnedBytes = l.pinned
	s.LargeEvictions = l.evictions
	l.mu.Unlock()
}
