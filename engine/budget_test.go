package engine

import (
	"testing"
	"time"
)

func TestBudgetBoundsConcurrencyBandwidthAndLoad(t *testing.T) {
	load := 0.0
	b := newBudget(2, 1000, 0.5, func() float64 { return load })
	t0 := time.Unix(1_800_000_000, 0)
	if !b.take(t0) || !b.take(t0) {
		t.Fatal("two takes within max_concurrent 2 refused")
	}
	if b.take(t0) {
		t.Fatal("a third concurrent take allowed")
	}
	b.release()
	b.charge(2500) // 1000 bytes/s: 2500 bytes leave a debt of 1500
	b.release()
	if b.take(t0) {
		t.Fatal("take allowed in debt")
	}
	if b.take(t0.Add(1400 * time.Millisecond)) {
		t.Fatal("take allowed before the debt is paid (1.4 s of 1.5)")
	}
	if !b.take(t0.Add(1600 * time.Millisecond)) {
		t.Fatal("take refused once the debt is paid")
	}
	b.release()
	// Idle time refills at most one second's worth.
	if !b.take(t0.Add(time.Hour)) {
		t.Fatal("take refused after an hour")
	}
	b.charge(1000)
	b.release()
	if b.take(t0.Add(time.Hour)) {
		t.Fatal("an hour idle banked more than one second of bandwidth")
	}
	load = 0.6
	if b.take(t0.Add(2 * time.Hour)) {
		t.Fatal("take allowed above max_load")
	}
	if got := b.started.Load(); got != 4 {
		t.Errorf("started %d, want 4", got)
	}
	if l, c, bw := b.skipLoad.Load(), b.skipConcurrency.Load(), b.skipBandwidth.Load(); l != 1 || c != 1 || bw != 3 {
		t.Errorf("skipped for load %d, concurrency %d, bandwidth %d; want 1, 1, 3", l, c, bw)
	}
	if got := b.bytesDone.Load(); got != 3500 {
		t.Errorf("bytes %d, want 3500", got)
	}
}

func TestRateMeter(t *testing.T) {
	m := newRateMeter(10 * time.Second)
	base := (time.Now().UnixNano()/m.period + 1) * m.period // a window's start
	at := func(d time.Duration) int64 { return base + int64(d) }
	const hot, cold = 0x1234_5678_9abc_def0, 0x0fed_cba9_8765_4321
	// A burst is seen at once: 20 requests in the first 2 s of a window.
	for i := range 20 {
		m.add(hot, at(time.Duration(i)*100*time.Millisecond))
	}
	m.add(cold, at(time.Second))
	if r := m.rate(hot, at(2*time.Second)); r < 9 || r > 11 {
		t.Errorf("burst rate %.1f/s, want 10", r)
	}
	if r := m.rate(cold, at(2*time.Second)); r > 0.6 {
		t.Errorf("cold rate %.1f/s, want 0.5", r)
	}
	// In the next window the previous count stands: 20 in 10 s.
	m.add(cold, at(10*time.Second))
	if r := m.rate(hot, at(11*time.Second)); r < 1.9 || r > 2.1 {
		t.Errorf("rate after the window turned %.2f/s, want 2", r)
	}
	// After two idle windows nothing is left.
	if r := m.rate(hot, at(35*time.Second)); r != 0 {
		t.Errorf("rate after 25 s of silence %.2f/s, want 0", r)
	}
	m.add(cold, at(45*time.Second))
	if r := m.rate(hot, at(45*time.Second)); r != 0 {
		t.Errorf("rate after idle windows were cleared %.2f/s, want 0", r)
	}
}

// The meter's add runs on the event loop for every lookup.
func TestRateMeterAddAllocatesNothing(t *testing.T) {
	m := newRateMeter(10 * time.Second)
	now := time.Now().UnixNano()
	if n := testing.AllocsPerRun(1000, func() { m.add(42, now); _ = m.rate(42, now) }); n != 0 {
		t.Fatalf("add and rate allocate %v times", n)
	}
}
