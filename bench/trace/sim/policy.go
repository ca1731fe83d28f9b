package sim

import (
	"math"

	"edgeproxy/cache/admission"
)

// EdgeConfig tunes the Edge policy; the zero value is the default.
type EdgeConfig struct {
	// Beta is the size exponent of the priority, f / size^Beta: 1 favours
	// small objects as GDSF does (request hit ratio), 0 ignores size as
	// LFUDA does (byte hit ratio). If zero, DefaultBeta is used.
	Beta float64
	// NoAdmit stores every missed object, as GDSF does.
	NoAdmit bool
	// Sketch starts a stored object's count at the TinyLFU sketch's
	// estimate of its recent requests, cached or not, instead of at 1.
	// (On the blog log this loses 2–4 points: the sketch's halving forgets
	// faster than GreedyDual's aging.)
	Sketch bool
	// Expected is the sketch's width; if zero, capacity / 16 KiB, at least
	// 1024, as admission.Config does.
	Expected int
}

// DefaultBeta is the size exponent of Edge's priority: between GDSF's 1,
// which buys request hits with byte hits, and LFUDA's 0.
const DefaultBeta = 0.8

// Edge is edgeproxy's replacement and admission policy: GreedyDual with a
// size-aware frequency priority and a cost-benefit admission test.
//
//   - priority(o) = L + refs(o) / size(o)^β, where refs counts o's
//     requests while cached and L, the priority of the last object
//     evicted, ages whatever is not asked for again (GreedyDual's
//     inflation, as in GDSF and LFUDA).
//   - a miss is stored only if its priority is above that of every object
//     it would push out, taken lowest first: a new object (refs 1) enters
//     by displacing objects worth less per byte^β than itself, never a
//     popular one. GDSF stores every miss and so evicts objects about to
//     be asked for again to make room for one-timers.
type Edge struct {
	t        *Trace
	cfg      EdgeConfig
	capacity int64
	used     int64
	h        *heap
	sketch   *admission.Sketch
	refs     []float64
	age      float64
	victims  []int32
	sizePow  []float64 // by object: size^β, computed once
}

// NewEdge returns the Edge policy over t with capacity bytes.
func NewEdge(t *Trace, capacity int64, cfg EdgeConfig) *Edge {
	if cfg.Beta == 0 {
		cfg.Beta = DefaultBeta
	}
	if cfg.Expected == 0 {
		cfg.Expected = int(max(capacity/(16<<10), 1024))
	}
	c := &Edge{t: t, cfg: cfg, capacity: capacity, h: newHeap(t.Objects),
		refs: make([]float64, t.Objects), sizePow: make([]float64, t.Objects)}
	if cfg.Sketch {
		c.sketch = admission.NewSketch(cfg.Expected, 0)
	}
	for i, s := range t.Sizes {
		c.sizePow[i] = math.Pow(float64(max(s, 1)), cfg.Beta)
	}
	return c
}

func (c *Edge) priority(id int32) float64 { return c.age + c.refs[id]/c.sizePow[id] }

// Access implements Policy.
func (c *Edge) Access(i int) bool {
	id := c.t.IDs[i]
	if c.sketch != nil {
		c.sketch.Increment(c.t.Hashes[id])
	}
	if c.h.contains(id) {
		c.refs[id]++
		c.h.set(id, c.priority(id))
		return true
	}
	c.Store(id)
	return false
}

// Contains implements Storer.
func (c *Edge) Contains(id int32) bool { return c.h.contains(id) }

// Store implements Storer: object id enters with one reference if its
// priority is above that of every object it would push out.
func (c *Edge) Store(id int32) bool {
	size := c.t.Sizes[id]
	if size > c.capacity {
		return false
	}
	c.refs[id] = 1
	if c.sketch != nil {
		c.refs[id] = float64(max(1, c.sketch.Estimate(c.t.Hashes[id])))
	}
	p := c.priority(id)
	c.victims = c.victims[:0]
	free := c.capacity - c.used
	for free < size {
		v := c.h.min()
		if !c.cfg.NoAdmit && c.h.key[v] > p {
			for _, w := range c.victims {
				c.h.set(w, c.h.key[w])
			}
			return false
		}
		c.h.remove(v)
		c.victims = append(c.victims, v)
		free += c.t.Sizes[v]
	}
	for _, v := range c.victims {
		c.age = math.Max(c.age, c.h.key[v])
		c.used -= c.t.Sizes[v]
	}
	c.h.set(id, p)
	c.used += size
	return true
}
