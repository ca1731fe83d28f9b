package admission

import (
	"math/bits"
	"sync/atomic"
)

// Ghost geometry: 12 bits and 4 probes per key give a false-positive rate
// near 0.6% for a full filter, about 1.2% for the pair.
const (
	ghostBitsPerKey = 12
	ghostProbes     = 4
	minGhostKeys    = 64
)

// Ghost is a bounded record of key hashes the cache recently held: two
// Bloom filters of a fixed number of keys each (a generation). Keys go into
// the newer; when it has taken a generation's worth, the older is cleared and
// becomes the newer. Contains asks both, so a key is remembered for between
// one and two generations of additions. Memory is fixed at construction.
//
// All methods are safe for concurrent use, allocate nothing and take no
// lock. A false positive (about 1%) admits an object the cache never had,
// which costs a little space, never correctness. Keys added while the older
// filter is being cleared may be lost the same way.
type Ghost struct {
	filters [2][]atomic.Uint64
	nbits   uint64 // bits in each filter, a multiple of 64
	per     int64  // keys per generation

	_   [64]byte
	cur atomic.Uint32 // index of the newer filter
	n   atomic.Int64  // keys added to the newer filter
	_   [52]byte
}

// NewGhost returns a ghost list that remembers the last keys to keys added
// (at least keys, at most twice as many). keys below 64 are raised to 64.
func NewGhost(keys int) *Ghost {
	keys = max(keys, minGhostKeys)
	words := (uint64(keys)*ghostBitsPerKey + 63) / 64
	return &Ghost{
		filters: [2][]atomic.Uint64{make([]atomic.Uint64, words), make([]atomic.Uint64, words)},
		nbits:   words * 64,
		per:     int64(keys),
	}
}

// Bytes reports the memory the two filters take.
func (g *Ghost) Bytes() int { return int(g.nbits/8) * 2 }

// Generation reports how many keys fill one filter.
func (g *Ghost) Generation() int { return int(g.per) }

// probes returns the filter bit positions of h by double hashing.
func (g *Ghost) probes(h uint64) (p [ghostProbes]uint64) {
	a, b := mix(h^0x2545f4914f6cdd1d), mix(h^0x5851f42d4c957f2d)|1
	for i := range p {
		p[i] = mulHigh(a+uint64(i)*b, g.nbits)
	}
	return p
}

// mulHigh maps x uniformly onto [0, n) without a division (Lemire's
// multiply-shift range reduction).
func mulHigh(x, n uint64) uint64 {
	hi, _ := bits.Mul64(x, n)
	return hi
}

// has reports whether every probe bit of a key is set in filter f.
func has(f []atomic.Uint64, p *[ghostProbes]uint64) bool {
	for _, b := range p {
		if f[b/64].Load()&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

// Add records h. Adding a key the newer filter already holds changes
// nothing. The addition that fills a generation clears the older filter,
// O(filter words) once per generation, and switches the two.
func (g *Ghost) Add(h uint64) {
	p := g.probes(h)
	i := g.cur.Load()
	f := g.filters[i]
	if has(f, &p) {
		return
	}
	for _, b := range p {
		f[b/64].Or(1 << (b % 64))
	}
	if g.n.Add(1) != g.per {
		return
	}
	old := g.filters[1-i]
	for j := range old {
		old[j].Store(0)
	}
	g.cur.Store(1 - i)
	g.n.Store(0)
}

// Contains reports whether h was added within the last one to two
// generations (or is a false positive).
func (g *Ghost) Contains(h uint64) bool {
	p := g.probes(h)
	i := g.cur.Load()
	return has(g.filters[i], &p) || has(g.filters[1-i], &p)
}
