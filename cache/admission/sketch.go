package admission

import (
	"math/bits"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
)

// Sketch geometry.
const (
	sketchRows     = 4
	counterMax     = 15 // a 4-bit counter saturates here
	countersInWord = 16
	minWidth       = 64
	maxWidth       = MaxExpectedObjects // 128 MiB of counters

	// SampleFactor is W / width: a sketch halves its counters after this many
	// increments per counter of one row (TinyLFU uses 10 × cache entries).
	SampleFactor = 10

	// halfMask clears the bit each counter receives from its upper neighbour
	// when a word is shifted right by one.
	halfMask = 0x7777777777777777
)

// Hash returns the 64-bit hash that Policy and Sketch take: xxhash of the
// cache key. It does not allocate.
func Hash(key []byte) uint64 { return xxhash.Sum64(key) }

// Sketch is a count-min sketch of 4-bit counters with periodic halving: the
// frequency histogram of TinyLFU. All methods are safe for concurrent use and
// none allocates or locks: counters are updated by compare-and-swap on the
// packed words.
type Sketch struct {
	words    []atomic.Uint64 // row r holds words [r*rowWords, (r+1)*rowWords), 16 counters each
	rowWords uint64
	shift    uint  // 32 - log2(width): a 32-bit hash piece >> shift is a column
	sample   int64 // W: increments between two halvings

	_      [64]byte // keep the hot add count off the words' cache line
	adds   atomic.Int64
	_      [56]byte
	resets atomic.Uint64
}

// NewSketch returns a sketch whose rows are expected wide: rounded up to a
// power of two, at least 64 and at most MaxExpectedObjects counters; the
// counters take 2 bytes per column. It halves its counters
// after sample increments; if sample is zero or negative, SampleFactor ×
// width is used.
func NewSketch(expected, sample int) *Sketch {
	width := uint64(minWidth)
	for width < uint64(expected) && width < maxWidth {
		width <<= 1
	}
	if sample <= 0 {
		sample = int(width) * SampleFactor
	}
	rowWords := width / countersInWord
	return &Sketch{
		words:    make([]atomic.Uint64, sketchRows*rowWords),
		rowWords: rowWords,
		shift:    uint(32 - bits.TrailingZeros64(width)),
		sample:   int64(sample),
	}
}

// Width reports the number of counters in each row.
func (s *Sketch) Width() int { return int(s.rowWords * countersInWord) }

// Bytes reports the memory the counters take.
func (s *Sketch) Bytes() int { return len(s.words) * 8 }

// Resets reports how many times the counters were halved.
func (s *Sketch) Resets() uint64 { return s.resets.Load() }

// mix is splitmix64's finaliser: it spreads any input over all 64 bits.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// slot is where a key's counter sits in one row.
type slot struct {
	word  uint64
	shift uint
}

// locate finds the key's counter in each row. Rows take independent 32-bit
// pieces of two remixes of h, so two keys that share one column rarely share
// another.
func (s *Sketch) locate(h uint64, out *[sketchRows]slot) {
	a, b := mix(h), mix(h^0x9e3779b97f4a7c15)
	pieces := [sketchRows]uint32{uint32(a), uint32(a >> 32), uint32(b), uint32(b >> 32)}
	for r, p := range pieces {
		col := uint64(p >> s.shift)
		out[r] = slot{
			word:  uint64(r)*s.rowWords + col/countersInWord,
			shift: uint(col%countersInWord) * 4,
		}
	}
}

// Increment counts one occurrence of h. Only the counters holding the key's
// current minimum are raised (conservative update), which keeps estimates of
// rare keys close to their true counts. The increment that completes a
// sample halves every counter: O(width) work, once per W increments.
func (s *Sketch) Increment(h uint64) {
	var sl [sketchRows]slot
	s.locate(h, &sl)
	var v [sketchRows]uint64
	least := uint64(counterMax)
	for r := range sl {
		v[r] = s.words[sl[r].word].Load() >> sl[r].shift & counterMax
		least = min(least, v[r])
	}
	if least == counterMax {
		return
	}
	added := false
	for r := range sl {
		if v[r] == least && s.raise(sl[r], least) {
			added = true
		}
	}
	if added && s.adds.Add(1) == s.sample {
		s.halve()
	}
}

// raise adds one to the counter at sl if it still holds want. A counter that
// moved on (another loop raised it, or a halving lowered it) is left alone.
func (s *Sketch) raise(sl slot, want uint64) bool {
	w := &s.words[sl.word]
	for {
		old := w.Load()
		if old>>sl.shift&counterMax != want {
			return false
		}
		if w.CompareAndSwap(old, old+1<<sl.shift) {
			return true
		}
	}
}

// halve divides every counter by two and forgets half the sample, as
// TinyLFU's reset does. Only the increment that brought the add count to
// the sample runs it, so two halvings never overlap.
func (s *Sketch) halve() {
	for i := range s.words {
		w := &s.words[i]
		for {
			old := w.Load()
			if w.CompareAndSwap(old, old>>1&halfMask) {
				break
			}
		}
	}
	s.resets.Add(1)
	s.adds.Add(-s.sample / 2)
}

// Estimate returns the estimated recent frequency of h, 0 to 15: the
// smallest of its counters. Used from one goroutine it never underestimates
// a count below 15 since the last halving; two loops raising the same counter
// at the same instant may count once, which an admission heuristic tolerates.
func (s *Sketch) Estimate(h uint64) int {
	var sl [sketchRows]slot
	s.locate(h, &sl)
	least := uint64(counterMax)
	for r := range sl {
		least = min(least, s.words[sl[r].word].Load()>>sl[r].shift&counterMax)
	}
	return int(least)
}
