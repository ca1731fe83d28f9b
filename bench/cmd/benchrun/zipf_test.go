package main

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestZipfProbabilities(t *testing.T) {
	const n = 100000
	z := newZipf(n, 1.0, 1)
	// P(1) = 1/H(n); H(100000) ≈ ln(n) + γ + 1/(2n).
	h := math.Log(n) + 0.5772156649 + 1.0/(2*n)
	if got, want := z.prob(1), 1/h; math.Abs(got-want) > 1e-6 {
		t.Errorf("P(1): got %v, want %v", got, want)
	}
	if got := z.prob(2) / z.prob(1); math.Abs(got-0.5) > 1e-9 {
		t.Errorf("P(2)/P(1): got %v, want 0.5", got)
	}
	if z.cdf[n-1] != 1 {
		t.Errorf("cdf ends at %v, want 1", z.cdf[n-1])
	}
}

// TestZipfSampleDistribution draws a sample and compares rank frequencies
// with the exact probabilities: within 5 standard deviations for the top
// ranks, and the right mass in the head and the tail.
func TestZipfSampleDistribution(t *testing.T) {
	const n, draws = 100000, 400000
	z := newZipf(n, 1.0, 7)
	counts := make([]int, n+1)
	for i := 0; i < draws; i++ {
		k := z.next()
		if k < 1 || k > n {
			t.Fatalf("rank %d out of [1, %d]", k, n)
		}
		counts[k]++
	}
	for k := 1; k <= 10; k++ {
		p := z.prob(k)
		sd := math.Sqrt(draws * p * (1 - p))
		if d := math.Abs(float64(counts[k]) - draws*p); d > 5*sd {
			t.Errorf("rank %d: %d draws, want %.0f ± %.0f", k, counts[k], draws*p, 5*sd)
		}
	}
	head := 0
	for k := 1; k <= 1000; k++ {
		head += counts[k]
	}
	want := z.cdf[999]
	if got := float64(head) / draws; math.Abs(got-want) > 0.01 {
		t.Errorf("top 1%% of URLs: %.3f of requests, want %.3f", got, want)
	}
	if want < 0.55 || want > 0.65 {
		t.Errorf("Zipf(1) over 100k: top 1000 ranks hold %.3f, want ≈0.6", want)
	}
}

func TestZipfSequenceMissShareAndDeterminism(t *testing.T) {
	a := zipfSequence(200000, 100000, 1.0, 0.10, 1)
	b := zipfSequence(200000, 100000, 1.0, 0.10, 1)
	misses := 0
	for i, v := range a {
		if v != b[i] {
			t.Fatalf("sequence differs at %d with the same seed", i)
		}
		if v == 0 {
			misses++
		}
	}
	if share := float64(misses) / float64(len(a)); math.Abs(share-0.10) > 0.005 {
		t.Errorf("miss share: got %.4f, want 0.10 ± 0.005", share)
	}
	c := zipfSequence(1000, 100000, 1.0, 0.10, 2)
	same := 0
	for i := range c {
		if c[i] == a[i] {
			same++
		}
	}
	if same > 500 {
		t.Errorf("another seed gave %d of 1000 equal entries", same)
	}
}

func TestWriteSequence(t *testing.T) {
	p := filepath.Join(t.TempDir(), "zipf.txt")
	seq := []int{1, 0, 42, 100000}
	if err := writeSequence(p, seq); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var got []int
	for sc.Scan() {
		v, err := strconv.Atoi(sc.Text())
		if err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, v)
	}
	if len(got) != len(seq) {
		t.Fatalf("got %v, want %v", got, seq)
	}
	for i := range seq {
		if got[i] != seq[i] {
			t.Fatalf("got %v, want %v", got, seq)
		}
	}
}
