package cache

import (
	"encoding/binary"
	"io"
	"math"
	"sync"
	"sync/atomic"

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

// Ref is a tier-L object: its entry (metadata and header block, as a tier-S
// entry without the body) and its body. Its chunks never change; its entry
// is replaced, never changed, by Freshen. Lookup passes a Ref in Hit.Large
// that is valid only during the callback; Retain it there to send the body
// afterwards, and Release it when the write has finished.
type Ref struct {
	l      *large
	id     uint64
	key    string   // the object's key: the URL key, or a variant key
	url    string   // the URL key, for Invalidate and the URL's Vary record
	chunks [][]byte // the body, each chunk but the last chunkSize long
	size   int64
	cost   int64 // bytes accounted: the capacity of the chunks

	unusedPrefetch atomic.Bool // stored by a prefetch and not hit yet

	// Guarded by l.mu.
	entry   []byte // metadata and header block; replaced whole by Freshen
	refs    int32
	linked  bool    // in the index and in the heap
	heapIdx int     // index in l.heap, -1 when not in it
	prio    float64 // eviction order, lowest first (large_policy.go)
	uses    float64 // PolicyEdge: requests while stored
	sizePow float64 // PolicyEdge: size^edgeBeta
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

// large is tier L: objects too big for a freecache entry, bounded by bytes
// and evicted least recently used first. It keeps its own index, entries
// included, so that an object and the entry that finds it live and die
// together: freecache evicts silently, and a body found only through a
// freecache entry would outlive it unreachable (issue 17). The index maps
// object keys to objects, and URL keys to their objects and to the URL's
// Vary record, so that Invalidate drops every variant at once and a variant
// stays reachable when freecache loses the record.
type large struct {
	mu        sync.Mutex // guards every field below and the guarded fields of every Ref
	limit     int64      // base plus what tier L may borrow from tier S
	base      int64      // LargeMemory
	used      int64      // bytes of objects not yet freed: linked, or evicted and still referenced
	pinned    int64      // of used: evicted objects waiting for their last Release
	nextID    uint64
	byKey     map[string]*Ref
	byURL     map[string]*urlRefs
	policy    Policy
	heap      []*Ref  // linked objects, lowest priority (evicted first) at the root
	victims   []*Ref  // scratch for makeRoom
	age       float64 // PolicyEdge: GreedyDual's L, the priority of the last object evicted
	tick      uint64  // PolicyLRU: uses so far
	refused   int64   // objects PolicyEdge did not admit
	evictions int64
	onEvict   func(urlHash uint64) // told of each object evicted for room; may be nil
}

// urlRefs is what tier L holds for one URL key.
type urlRefs struct {
	refs []*Ref
	vary []byte // the URL's Vary record when its objects are variants; never changed, only replaced
}

func newLarge(limit int64, policy Policy) *large {
	return &large{limit: limit, base: limit, policy: policy, byKey: make(map[string]*Ref), byURL: make(map[string]*urlRefs)}
}

// setBorrow lets tier L hold base+borrow bytes, evicting in the policy's
// order at once when it holds more.
func (l *large) setBorrow(borrow int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.limit = l.base + max(borrow, 0)
	for l.used > l.limit && len(l.heap) > 0 {
		v := l.pop()
		if l.policy == PolicyEdge {
			l.age = max(l.age, v.prio)
		}
		l.unlink(v)
		l.evictions++
		if l.onEvict != nil {
			l.onEvict(hashURL(v.url))
		}
	}
}

// hashURL is the hash the admission policy knows a URL key by.
func hashURL(url string) uint64 { return xxhash.Sum64String(url) }

// insert adds an object under key, replacing the one stored there and
// evicting objects in the policy's order until it fits. vary is the URL's
// Vary record when key is a variant key, else nil. It fails with
// ErrNotAdmitted when PolicyEdge finds the object worth less than what it
// would evict, and with ErrNoSpace when the bytes still referenced by
// evicted objects leave no room.
func (l *large) insert(url, key string, vary, entry []byte, chunks [][]byte, size int64) (*Ref, error) {
	var cost int64
	for _, c := range chunks {
		cost += int64(cap(c))
	}
	if cost > l.limit {
		return nil, ErrTooLarge
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var uses float64
	if old := l.byKey[key]; old != nil {
		uses = old.uses // a refetch keeps its object's count
		l.unlink(old)
	}
	r := &Ref{l: l, key: key, url: url, entry: entry, chunks: chunks, size: size, cost: cost, heapIdx: -1}
	l.initPrio(r)
	if uses > 0 && l.policy == PolicyEdge {
		r.uses = uses
		r.prio = l.age + r.uses/r.sizePow
	}
	if l.used+cost > l.limit && !l.makeRoom(cost, r.prio, false) {
		l.refused++
		return nil, ErrNotAdmitted
	}
	if l.used+cost > l.limit {
		return nil, ErrNoSpace
	}
	l.nextID++
	r.id, r.linked = l.nextID, true
	r.unusedPrefetch.Store(entry[1]&flagPrefetched != 0)
	binary.LittleEndian.PutUint64(entry[idOffset:], r.id)
	l.used += cost
	l.byKey[key] = r
	u := l.byURL[url]
	if u == nil {
		u = &urlRefs{}
		l.byURL[url] = u
	}
	u.refs = append(u.refs, r)
	if vary != nil {
		u.vary = vary
	}
	l.push(r)
	return r, nil
}

// admits reports whether an object of size bytes taking cost would be
// stored now: always under PolicyLRU or with room; under PolicyEdge only if
// it outranks everything it would evict.
func (l *large) admits(size, cost int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.policy != PolicyEdge || l.used+cost <= l.limit {
		return true
	}
	p := l.age + 1/math.Pow(float64(max(size, 1)), edgeBeta)
	if !l.makeRoom(cost, p, true) {
		l.refused++
		return false
	}
	return true
}

// full reports whether adding cost bytes would evict stored objects.
func (l *large) full(cost int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.used+cost > l.limit
}

// get returns the object stored under key, referenced and marked recently
// used, with its entry; or else, when key is a URL key whose objects are
// variants, the URL's Vary record. It allocates nothing.
func (l *large) get(key []byte) (r *Ref, entry, vary []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r = l.byKey[string(key)]; r != nil {
		r.refs++
		l.touch(r)
		return r, r.entry, nil
	}
	if u := l.byURL[string(key)]; u != nil {
		return nil, nil, u.vary
	}
	return nil, nil, nil
}

// varyOf returns the Vary record tier L holds for the URL key, or nil.
func (l *large) varyOf(url []byte) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	if u := l.byURL[string(url)]; u != nil {
		return u.vary
	}
	return nil
}

// setVary replaces the Vary record of a URL that has objects in tier L.
func (l *large) setVary(url []byte, rec []byte) {
	l.mu.Lock()
	if u := l.byURL[string(url)]; u != nil && u.vary != nil {
		u.vary = rec
	}
	l.mu.Unlock()
}

// update replaces the entry of the object under key with what fn returns
// for the current one, when fn reports true. It reports whether it did.
func (l *large) update(key []byte, fn func(entry []byte) ([]byte, bool)) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.byKey[string(key)]
	if r == nil {
		return false
	}
	e, ok := fn(r.entry)
	if ok {
		binary.LittleEndian.PutUint64(e[idOffset:], r.id)
		r.entry = e
	}
	return ok
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

// remove unlinks the object stored under key, if there is one.
func (l *large) remove(key []byte) {
	l.mu.Lock()
	if r := l.byKey[string(key)]; r != nil {
		l.unlink(r)
	}
	l.mu.Unlock()
}

// dropURL unlinks every object stored for url, and its Vary record, and
// returns how many objects there were.
func (l *large) dropURL(url []byte) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	u := l.byURL[string(url)]
	if u == nil {
		return 0
	}
	victims := append([]*Ref(nil), u.refs...)
	for _, r := range victims {
		l.unlink(r)
	}
	return len(victims)
}

// unlink takes r out of the index and the LRU list, and the URL's Vary
// record with its last object. Its bytes are freed now if nothing
// references it, or else by the last release.
func (l *large) unlink(r *Ref) {
	if !r.linked {
		return
	}
	r.linked = false
	if r.heapIdx >= 0 {
		l.removeAt(r.heapIdx)
	}
	delete(l.byKey, r.key)
	if u := l.byURL[r.url]; u != nil {
		rs := u.refs
		for i := range rs {
			if rs[i] == r {
				rs[i] = rs[len(rs)-1]
				rs[len(rs)-1] = nil
				rs = rs[:len(rs)-1]
				break
			}
		}
		u.refs = rs
		if len(rs) == 0 {
			delete(l.byURL, r.url)
		}
	}
	if r.refs == 0 {
		l.used -= r.cost
	} else {
		l.pinned += r.cost
	}
}

// stats adds tier L's figures to s.
func (l *large) stats(s *Stats) {
	l.mu.Lock()
	s.LargeObjects = int64(len(l.byKey))
	s.LargeLimit = l.limit
	s.LargeBytes = l.used
	s.LargeCapacity = l.base
	s.LargePinnedBytes = l.pinned
	s.LargeEvictions = l.evictions
	s.LargeRefused = l.refused
	l.mu.Unlock()
}
