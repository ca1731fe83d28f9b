package sim

import (
	"fmt"
	"math"

	"edgeproxy/bench/trace/tracelog"
)

// Trace is a request sequence prepared for simulation: objects numbered,
// each request's next use known (for Belady).
type Trace struct {
	IDs     []int32  // object of each request
	Sizes   []int64  // by object
	Times   []int64  // unix ms of each request
	Next    []int32  // index of the next request for the same object, or len(IDs)
	Objects int      // distinct objects
	Bytes   int64    // distinct bytes: the sum of Sizes
	Hashes  []uint64 // by object: a 64-bit hash of URL and size
	Clients []int32  // client of each request, numbered in order of first appearance
	URLs    []string // by object: its URL as logged
}

// NewTrace numbers the objects of reqs. With byURL, an object is a URL at
// its largest logged size (what a replay serving the largest size sees);
// otherwise it is a URL at one size, and a change of size is a new object.
func NewTrace(reqs []tracelog.Request, byURL bool) *Trace {
	type obj struct {
		key  string
		size int64
	}
	largest := make(map[string]int64)
	if byURL {
		for _, r := range reqs {
			largest[r.Key] = max(largest[r.Key], r.Size)
		}
	}
	index := make(map[obj]int32)
	t := &Trace{IDs: make([]int32, len(reqs)), Times: make([]int64, len(reqs)), Next: make([]int32, len(reqs)), Clients: make([]int32, len(reqs))}
	for i, r := range reqs {
		o := obj{r.Key, r.Size}
		if byURL {
			o.size = largest[r.Key]
		}
		id, ok := index[o]
		if !ok {
			id = int32(len(t.Sizes))
			index[o] = id
			t.Sizes = append(t.Sizes, o.size)
			t.Hashes = append(t.Hashes, hashKey(r.Key, o.size))
			t.URLs = append(t.URLs, r.Key)
			t.Bytes += o.size
		}
		t.IDs[i] = id
		t.Times[i] = r.Time
		t.Clients[i] = int32(r.Client)
	}
	t.Objects = len(t.Sizes)
	last := make([]int32, t.Objects)
	for i := range last {
		last[i] = int32(len(reqs))
	}
	for i := len(reqs) - 1; i >= 0; i-- {
		t.Next[i] = last[t.IDs[i]]
		last[t.IDs[i]] = int32(i)
	}
	return t
}

// hashKey is FNV-1a over the key and the size.
func hashKey(key string, size int64) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	for i := 0; i < 8; i++ {
		h ^= uint64(byte(size >> (8 * i)))
		h *= 1099511628211
	}
	return h
}

// Policy is a replacement (and admission) policy under simulation.
type Policy interface {
	// Access handles request i of the trace and reports a hit. On a miss
	// it stores the object if it admits it, evicting others to fit.
	Access(i int) bool
}

// Result is what one simulation measured.
type Result struct {
	Policy       string  `json:"policy"`
	Capacity     int64   `json:"capacity"`
	Requests     int64   `json:"requests"`
	Hits         int64   `json:"hits"`
	Bytes        int64   `json:"bytes"`
	HitBytes     int64   `json:"hit_bytes"`
	HitRatio     float64 `json:"hit_ratio"`
	ByteHitRatio float64 `json:"byte_hit_ratio"`
}

// New returns the named policy over t with capacity bytes: lru, gdsf,
// lfuda, belady or edge.
func New(name string, t *Trace, capacity int64) (Policy, error) {
	switch name {
	case "lru":
		return newLRU(t, capacity), nil
	case "gdsf":
		return newSquidHeap(t, capacity, gdsfKey), nil
	case "lfuda":
		return newSquidHeap(t, capacity, lfudaKey), nil
	case "belady":
		return newBelady(t, capacity), nil
	case "edge":
		return NewEdge(t, capacity, EdgeConfig{}), nil
	}
	return nil, fmt.Errorf("sim: unknown policy %q", name)
}

// Policies are the names New knows, in table order.
var Policies = []string{"lru", "gdsf", "lfuda", "belady", "edge"}

// Run plays the whole trace through p.
func Run(name string, t *Trace, capacity int64, p Policy) Result {
	res := Result{Policy: name, Capacity: capacity}
	for i, id := range t.IDs {
		size := t.Sizes[id]
		res.Requests++
		res.Bytes += size
		if p.Access(i) {
			res.Hits++
			res.HitBytes += size
		}
	}
	res.HitRatio = float64(res.Hits) / math.Max(1, float64(res.Requests))
	res.ByteHitRatio = float64(res.HitBytes) / math.Max(1, float64(res.Bytes))
	return res
}
