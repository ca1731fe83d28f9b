package admission

import (
	"math"
	"math/rand/v2"
	"sort"
)

// zipf draws ranks 0..n-1 with probability proportional to 1/(rank+1)^s by
// inverting the cumulative distribution; unlike rand.Zipf it accepts s ≤ 1,
// the range measured for web traffic.
type zipf struct {
	cdf []float64
	r   *rand.Rand
}

func newZipf(r *rand.Rand, n int, s float64) *zipf {
	cdf := make([]float64, n)
	sum := 0.0
	for i := range cdf {
		sum += 1 / math.Pow(float64(i+1), s)
		cdf[i] = sum
	}
	for i := range cdf {
		cdf[i] /= sum
	}
	return &zipf{cdf: cdf, r: r}
}

func (z *zipf) next() int {
	u := z.r.Float64()
	return sort.SearchFloat64s(z.cdf, u)
}

// keyHash gives test key i a well-spread hash, as xxhash of a URL would be.
func keyHash(i int) uint64 { return mix(uint64(i) + 0x1234567) }
