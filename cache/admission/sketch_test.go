package admission

import (
	"math/rand/v2"
	"testing"
)

func TestSketchWidth(t *testing.T) {
	for _, tc := range []struct{ expected, width, bytes int }{
		{0, 64, 128},
		{64, 64, 128},
		{65, 128, 256},
		{100_000, 131072, 262144},
	} {
		s := NewSketch(tc.expected, 0)
		if got := s.Width(); got != tc.width {
			t.Errorf("NewSketch(%d): width %d, want %d", tc.expected, got, tc.width)
		}
		if got := s.Bytes(); got != tc.bytes {
			t.Errorf("NewSketch(%d): %d bytes, want %d", tc.expected, got, tc.bytes)
		}
	}
}

// TestSketchZipf feeds a Zipf stream and checks the count-min guarantees:
// no estimate below the true count (saturated at 15), and overestimates
// that stay rare and small when the rows are as wide as the key population.
func TestSketchZipf(t *testing.T) {
	const keys, events = 20_000, 200_000
	r := rand.New(rand.NewPCG(1, 2))
	z := newZipf(r, keys, 0.9)
	s := NewSketch(keys, 1<<40) // no halving during the test
	truth := make([]int, keys)
	for range events {
		k := z.next()
		truth[k]++
		s.Increment(keyHash(k))
	}
	var over, overTwo, seen int
	for k, n := range truth {
		want := min(n, counterMax)
		got := s.Estimate(keyHash(k))
		if got < want {
			t.Fatalf("key %d: estimate %d below true count %d", k, got, want)
		}
		if n > 0 {
			seen++
		}
		over += got - want
		if got-want > 2 {
			overTwo++
		}
	}
	mean := float64(over) / keys
	t.Logf("%d keys (%d seen), %d events: mean overestimate %.3f, %d keys over by more than 2", keys, seen, events, mean, overTwo)
	if mean > 0.2 {
		t.Errorf("mean overestimate %.3f, want ≤ 0.2", mean)
	}
	if overTwo > keys/100 {
		t.Errorf("%d keys overestimated by more than 2, want ≤ %d", overTwo, keys/100)
	}
}

func TestSketchSaturates(t *testing.T) {
	s := NewSketch(1024, 0)
	for range 40 {
		s.Increment(7)
	}
	if got := s.Estimate(7); got != counterMax {
		t.Errorf("after 40 increments: estimate %d, want %d", got, counterMax)
	}
}

// TestSketchHalving checks the TinyLFU reset: the increment that completes
// the sample halves every counter, and the next halving comes after half a
// sample more.
func TestSketchHalving(t *testing.T) {
	const sample = 100
	s := NewSketch(4096, sample)
	hot, warm := keyHash(-1), keyHash(-2)
	for range 11 {
		s.Increment(hot)
	}
	for range 3 {
		s.Increment(warm)
	}
	for i := range sample - 11 - 3 - 1 {
		s.Increment(keyHash(i))
	}
	if got := s.Estimate(hot); got != 11 {
		t.Fatalf("before the sample is complete: estimate %d, want 11", got)
	}
	if got := s.Resets(); got != 0 {
		t.Fatalf("before the sample is complete: %d resets, want 0", got)
	}
	s.Increment(keyHash(1000))
	if got := s.Resets(); got != 1 {
		t.Fatalf("after %d increments: %d resets, want 1", sample, got)
	}
	for _, tc := range []struct {
		h    uint64
		want int
	}{{hot, 5}, {warm, 1}, {keyHash(0), 0}} {
		if got := s.Estimate(tc.h); got != tc.want {
			t.Errorf("after halving: estimate %d, want %d", got, tc.want)
		}
	}
	for i := range sample/2 - 1 {
		s.Increment(keyHash(2000 + i))
	}
	if got := s.Resets(); got != 1 {
		t.Fatalf("half a sample later, less one: %d resets, want 1", got)
	}
	s.Increment(keyHash(5000))
	if got := s.Resets(); got != 2 {
		t.Fatalf("half a sample later: %d resets, want 2", got)
	}
	if got := s.Estimate(hot); got != 2 {
		t.Errorf("after the second halving: estimate %d, want 2", got)
	}
}

func TestSketchAllocs(t *testing.T) {
	s := NewSketch(1<<12, 0)
	var h uint64
	if n := testing.AllocsPerRun(1000, func() {
		h++
		s.Increment(h)
		_ = s.Estimate(h)
	}); n != 0 {
		t.Errorf("Increment+Estimate: %v allocations, want 0", n)
	}
}

func BenchmarkSketchIncrement(b *testing.B) {
	s := NewSketch(1<<16, 0)
	b.ReportAllocs()
	var h uint64
	for b.Loop() {
		h++
		s.Increment(h)
	}
}
