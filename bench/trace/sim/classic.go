package sim

import "math"

// lru is a byte-bounded least-recently-used cache.
type lru struct {
	t          *Trace
	capacity   int64
	used       int64
	in         []bool
	prev, next []int32 // list by id; -1 ends
	head, tail int32   // head most recent
}

func newLRU(t *Trace, capacity int64) *lru {
	c := &lru{t: t, capacity: capacity, in: make([]bool, t.Objects), prev: make([]int32, t.Objects), next: make([]int32, t.Objects), head: -1, tail: -1}
	return c
}

func (c *lru) unlink(id int32) {
	p, n := c.prev[id], c.next[id]
	if p >= 0 {
		c.next[p] = n
	} else {
		c.head = n
	}
	if n >= 0 {
		c.prev[n] = p
	} else {
		c.tail = p
	}
}

func (c *lru) pushFront(id int32) {
	c.prev[id], c.next[id] = -1, c.head
	if c.head >= 0 {
		c.prev[c.head] = id
	}
	c.head = id
	if c.tail < 0 {
		c.tail = id
	}
}

func (c *lru) Access(i int) bool {
	id := c.t.IDs[i]
	if c.in[id] {
		c.unlink(id)
		c.pushFront(id)
		return true
	}
	c.Store(id)
	return false
}

// Contains implements Storer.
func (c *lru) Contains(id int32) bool { return c.in[id] }

// Store implements Storer: every object that fits is stored, least
// recently used ones evicted to make room.
func (c *lru) Store(id int32) bool {
	size := c.t.Sizes[id]
	if size > c.capacity {
		return false
	}
	for c.used+size > c.capacity {
		v := c.tail
		c.unlink(v)
		c.in[v] = false
		c.used -= c.t.Sizes[v]
	}
	c.in[id] = true
	c.used += size
	c.pushFront(id)
	return true
}

// squidHeap is Squid's heap replacement: evict the smallest key, and let
// the key of the last evicted object be the age L new keys start from.
type squidHeap struct {
	t        *Trace
	capacity int64
	used     int64
	h        *heap
	refcount []float64
	lastref  []int64 // unix ms
	age      float64
	key      func(c *squidHeap, id int32, now int64) float64
}

func newSquidHeap(t *Trace, capacity int64, key func(*squidHeap, int32, int64) float64) *squidHeap {
	// Squid starts the heap's age at 1.
	return &squidHeap{t: t, capacity: capacity, h: newHeap(t.Objects), refcount: make([]float64, t.Objects), lastref: make([]int64, t.Objects), key: key, age: 1}
}

// gdsfKey is HeapKeyGen_StoreEntry_GDSF: the tie-breaker is 1/lastref in
// unix seconds, so the more recent of two equal objects wins.
func gdsfKey(c *squidHeap, id int32, _ int64) float64 {
	size := math.Max(1, float64(c.t.Sizes[id]))
	tie := 1.0
	if last := c.lastref[id] / 1000; last > 1 {
		tie = 1 / float64(last)
	}
	return c.age + c.refcount[id]/size - tie
}

// lfudaKey is HeapKeyGen_StoreEntry_LFUDA: the tie-breaker is 0 for an
// object referenced now, as Squid sets lastref before it computes the key.
func lfudaKey(c *squidHeap, id int32, now int64) float64 {
	tie := 0.0
	if last := c.lastref[id] / 1000; last > 0 && now/1000 > last {
		tie = 1 - math.Exp(float64(last-now/1000)/86400)
	}
	return c.age + c.refcount[id] - tie
}

func (c *squidHeap) Access(i int) bool {
	id := c.t.IDs[i]
	now := c.t.Times[i]
	if c.h.contains(id) {
		c.refcount[id]++
		c.lastref[id] = now
		c.h.set(id, c.key(c, id, now))
		return true
	}
	size := c.t.Sizes[id]
	if size > c.capacity {
		return false
	}
	for c.used+size > c.capacity {
		v := c.h.min()
		c.age = c.h.key[v]
		c.h.remove(v)
		c.used -= c.t.Sizes[v]
	}
	c.refcount[id] = 1
	c.lastref[id] = now
	c.h.set(id, c.key(c, id, now))
	c.used += size
	return false
}

// belady evicts the object requested again furthest in the future.
type belady struct {
	t        *Trace
	capacity int64
	used     int64
	h        *heap // key: −next use, so the minimum is the furthest
}

func newBelady(t *Trace, capacity int64) *belady {
	return &belady{t: t, capacity: capacity, h: newHeap(t.Objects)}
}

func (c *belady) Access(i int) bool {
	id := c.t.IDs[i]
	next := float64(c.t.Next[i])
	if c.h.contains(id) {
		if c.t.Next[i] == int32(len(c.t.IDs)) {
			c.h.remove(id)
			c.used -= c.t.Sizes[id]
		} else {
			c.h.set(id, -next)
		}
		return true
	}
	size := c.t.Sizes[id]
	if size > c.capacity || c.t.Next[i] == int32(len(c.t.IDs)) {
		return false
	}
	c.h.set(id, -next)
	c.used += size
	for c.used > c.capacity {
		v := c.h.min()
		c.h.remove(v)
		c.used -= c.t.Sizes[v]
	}
	return false
}
