package admission

import (
	"container/list"
	"math"
	"math/rand/v2"
	"testing"
)

// byteLRU is a least-recently-used cache bounded by bytes, the simplest
// stand-in for the proxy's stores.
type byteLRU struct {
	capacity, used int64
	ll             list.List // front: most recent; values are *lruEntry
	index          map[int]*list.Element
	evicted        func(key int)
}

type lruEntry struct {
	key  int
	size int64
}

func newByteLRU(capacity int64, evicted func(int)) *byteLRU {
	return &byteLRU{capacity: capacity, index: make(map[int]*list.Element), evicted: evicted}
}

func (c *byteLRU) get(key int) bool {
	e, ok := c.index[key]
	if ok {
		c.ll.MoveToFront(e)
	}
	return ok
}

func (c *byteLRU) add(key int, size int64) {
	if size > c.capacity {
		return
	}
	for c.used+size > c.capacity {
		back := c.ll.Back()
		old := back.Value.(*lruEntry)
		c.ll.Remove(back)
		delete(c.index, old.key)
		c.used -= old.size
		c.evicted(old.key)
	}
	c.index[key] = c.ll.PushFront(&lruEntry{key, size})
	c.used += size
}

// traceRequest is one request of the simulated trace.
type traceRequest struct {
	key   int
	size  int64
	class int // classSmall, classLarge or classOnce
}

const (
	classSmall = iota // Zipf-popular objects of 1 to 64 KiB
	classLarge        // a few popular downloads of 1 to 8 MiB
	classOnce         // one-timers of 1 to 100 MiB, never asked for again
	classes
)

var classNames = [classes]string{"small popular", "large popular", "one-timers"}

// logUniform draws a size between lo and hi, uniform in log scale.
func logUniform(r *rand.Rand, lo, hi float64) int64 {
	return int64(math.Exp(math.Log(lo) + r.Float64()*(math.Log(hi)-math.Log(lo))))
}

// makeTrace builds a deterministic trace: 95% requests for 20,000 small
// objects (Zipf 0.9), 2% for 40 popular large objects (Zipf 0.9), 3%
// one-timers.
func makeTrace(n int) []traceRequest {
	r := rand.New(rand.NewPCG(7, 11))
	const smallN, largeN = 20_000, 40
	smallSize := make([]int64, smallN)
	for i := range smallSize {
		smallSize[i] = logUniform(r, kib, 64*kib)
	}
	largeSize := make([]int64, largeN)
	for i := range largeSize {
		largeSize[i] = logUniform(r, mib, 8*mib)
	}
	zs, zl := newZipf(r, smallN, 0.9), newZipf(r, largeN, 0.9)
	trace := make([]traceRequest, n)
	next := smallN + largeN
	for i := range trace {
		switch u := r.Float64(); {
		case u < 0.95:
			k := zs.next()
			trace[i] = traceRequest{k, smallSize[k], classSmall}
		case u < 0.97:
			k := zl.next()
			trace[i] = traceRequest{smallN + k, largeSize[k], classLarge}
		default:
			trace[i] = traceRequest{next, logUniform(r, mib, 100*mib), classOnce}
			next++
		}
	}
	return trace
}

type simResult struct {
	hits, reqs         int
	hitBytes, allBytes int64
	classHits          [classes]int
	classReqs          [classes]int
}

func (s simResult) byteHitRatio() float64 { return float64(s.hitBytes) / float64(s.allBytes) }
func (s simResult) hitRatio() float64     { return float64(s.hits) / float64(s.reqs) }

// simulate replays trace through an LRU of capacity bytes, asking p (which
// may be disabled) before each store.
func simulate(trace []traceRequest, capacity int64, p *Policy) simResult {
	c := newByteLRU(capacity, func(k int) { p.Evicted(keyHash(k)) })
	var res simResult
	for _, q := range trace {
		h := keyHash(q.key)
		p.Record(h)
		res.reqs++
		res.allBytes += q.size
		res.classReqs[q.class]++
		if c.get(q.key) {
			res.hits++
			res.hitBytes += q.size
			res.classHits[q.class]++
			continue
		}
		if p.Admit(h, q.size) {
			c.add(q.key, q.size)
		}
	}
	return res
}

// TestSimulationByteHitRatio is the case admission exists for: large
// one-timers flush small popular objects out of a plain LRU.
func TestSimulationByteHitRatio(t *testing.T) {
	const capacity = 128 * mib
	trace := makeTrace(300_000)
	plain := simulate(trace, capacity, nil)
	p := newTestPolicy(t, Config{Enabled: true, Capacity: capacity})
	admitted := simulate(trace, capacity, p)

	for _, run := range []struct {
		name string
		r    simResult
	}{{"LRU", plain}, {"LRU+admission", admitted}} {
		t.Logf("%-14s byte hit ratio %.4f, request hit ratio %.4f", run.name, run.r.byteHitRatio(), run.r.hitRatio())
		for c := range classes {
			t.Logf("%-14s   %-13s hit ratio %.4f of %d", "", classNames[c], float64(run.r.classHits[c])/float64(run.r.classReqs[c]), run.r.classReqs[c])
		}
	}
	var hittable int64 // bytes of objects asked for more than once: the ceiling
	for _, q := range trace {
		if q.class != classOnce {
			hittable += q.size
		}
	}
	t.Logf("bytes of repeated objects: %.4f of all bytes requested", float64(hittable)/float64(plain.allBytes))
	t.Logf("policy: %+v", p.Stats())
	if admitted.byteHitRatio() <= plain.byteHitRatio()*1.2 {
		t.Errorf("byte hit ratio with admission %.4f, want at least 1.2 × %.4f without", admitted.byteHitRatio(), plain.byteHitRatio())
	}
	if admitted.hitRatio() <= plain.hitRatio() {
		t.Errorf("request hit ratio with admission %.4f, want above %.4f without", admitted.hitRatio(), plain.hitRatio())
	}
	if admitted.classHits[classLarge] == 0 {
		t.Errorf("no hits on popular large objects: size awareness refuses them for good")
	}
}
