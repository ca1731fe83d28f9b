package main

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
)

// zipf samples ranks 1..n with P(k) ∝ 1/k^s by inverting the cumulative
// distribution with a binary search. Unlike math/rand's Zipf it accepts
// s ≤ 1; s = 1 is the classic fit for web object popularity.
type zipf struct {
	cdf []float64 // cdf[k-1] = P(rank ≤ k); cdf[n-1] = 1
	rng *rand.Rand
}

func newZipf(n int, s float64, seed uint64) *zipf {
	cdf := make([]float64, n)
	var sum float64
	for k := 1; k <= n; k++ {
		sum += 1 / math.Pow(float64(k), s)
		cdf[k-1] = sum
	}
	for i := range cdf {
		cdf[i] /= sum
	}
	cdf[n-1] = 1
	return &zipf{cdf: cdf, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// prob is the exact probability of rank k.
func (z *zipf) prob(k int) float64 {
	if k == 1 {
		return z.cdf[0]
	}
	return z.cdf[k-1] - z.cdf[k-2]
}

// next draws one rank.
func (z *zipf) next() int {
	u := z.rng.Float64()
	return sort.SearchFloat64s(z.cdf, u) + 1
}

// zipfSequence draws count requests: with probability missShare a miss
// (written as 0), otherwise a Zipf rank over urls objects.
func zipfSequence(count, urls int, s, missShare float64, seed uint64) []int {
	z := newZipf(urls, s, seed)
	miss := rand.New(rand.NewPCG(seed+1, seed+2))
	out := make([]int, count)
	for i := range out {
		if miss.Float64() < missShare {
			continue
		}
		out[i] = z.next()
	}
	return out
}

// writeSequence stores seq one integer per line, the format zipf.lua reads.
func writeSequence(path string, seq []int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	for _, v := range seq {
		fmt.Fprintln(w, v)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
