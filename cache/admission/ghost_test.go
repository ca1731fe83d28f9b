package admission

import "testing"

func TestGhostGenerations(t *testing.T) {
	const per = 1000
	g := NewGhost(per)
	if got, want := g.Bytes(), 2*((per*ghostBitsPerKey+63)/64)*8; got != want {
		t.Errorf("Bytes: got %d, want %d", got, want)
	}
	for i := range per {
		g.Add(keyHash(i))
	}
	for i := range per / 2 {
		g.Add(keyHash(per + i))
	}
	for i := range per + per/2 {
		if !g.Contains(keyHash(i)) {
			t.Fatalf("key %d of %d added: not contained, want contained within two generations", i, per+per/2)
		}
	}
	// Two generations and a little more added (a key that is a false
	// positive of the newer filter does not count towards its generation):
	// the first generation has been cleared.
	const total = 2*per + per/10
	for i := per + per/2; i < total; i++ {
		g.Add(keyHash(i))
	}
	stale := 0
	for i := range per {
		if g.Contains(keyHash(i)) {
			stale++
		}
	}
	for i := per + per/10; i < total; i++ {
		if !g.Contains(keyHash(i)) {
			t.Fatalf("key %d of the newer generation: not contained", i)
		}
	}
	if stale > per/40 {
		t.Errorf("%d of %d keys of a cleared generation still contained, want ≤ %d (false positives)", stale, per, per/40)
	}
}

func TestGhostFalsePositives(t *testing.T) {
	const per = 10_000
	g := NewGhost(per)
	for i := range 2*per - 1 { // both filters full
		g.Add(keyHash(i))
	}
	fp := 0
	const probes = 100_000
	for i := range probes {
		if g.Contains(keyHash(1_000_000 + i)) {
			fp++
		}
	}
	rate := float64(fp) / probes
	t.Logf("false-positive rate with both filters full: %.4f", rate)
	if rate > 0.025 {
		t.Errorf("false-positive rate %.4f, want ≤ 0.025", rate)
	}
}

func TestGhostAddTwice(t *testing.T) {
	g := NewGhost(100)
	for range 500 {
		g.Add(42)
	}
	if got := g.n.Load(); got != 1 {
		t.Errorf("one key added 500 times: generation holds %d, want 1", got)
	}
}

func TestGhostAllocs(t *testing.T) {
	g := NewGhost(1 << 10)
	var h uint64
	if n := testing.AllocsPerRun(5000, func() {
		h++
		g.Add(h)
		_ = g.Contains(h + 1)
	}); n != 0 {
		t.Errorf("Add+Contains: %v allocations, want 0", n)
	}
}
