package admission

import (
	"errors"
	"sync"
	"testing"
)

const (
	kib = 1 << 10
	mib = 1 << 20
)

func newTestPolicy(t *testing.T, c Config) *Policy {
	t.Helper()
	p, err := NewPolicy(c)
	if err != nil {
		t.Fatalf("NewPolicy(%+v): %v", c, err)
	}
	return p
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Config
		err  error
		want Config
	}{
		{"zero", Config{}, nil, Config{SmallSize: DefaultSmallSize, ExpectedObjects: DefaultExpectedObjects}},
		{"from capacity", Config{Enabled: true, Capacity: 256 * mib}, nil,
			Config{Enabled: true, Capacity: 256 * mib, SmallSize: DefaultSmallSize, ExpectedObjects: 16384}},
		{"small capacity", Config{Capacity: mib}, nil, Config{Capacity: mib, SmallSize: DefaultSmallSize, ExpectedObjects: 1024}},
		{"explicit", Config{ExpectedObjects: 10, SmallSize: 4096}, nil, Config{ExpectedObjects: 10, SmallSize: 4096}},
		{"negative capacity", Config{Capacity: -1}, ErrCapacity, Config{}},
		{"negative small", Config{SmallSize: -1}, ErrSmallSize, Config{}},
		{"negative objects", Config{ExpectedObjects: -1}, ErrExpectedObjects, Config{}},
		{"too many objects", Config{ExpectedObjects: MaxExpectedObjects + 1}, ErrExpectedObjects, Config{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.c.withDefaults()
			if !errors.Is(err, tc.err) {
				t.Fatalf("got error %v, want %v", err, tc.err)
			}
			if err == nil && got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if _, err := NewPolicy(tc.c); !errors.Is(err, tc.err) {
				t.Errorf("NewPolicy: got error %v, want %v", err, tc.err)
			}
		})
	}
}

func TestThreshold(t *testing.T) {
	p := newTestPolicy(t, Config{Enabled: true})
	for _, tc := range []struct {
		size int64
		want int
	}{
		{0, 2}, {1, 2}, {64 * kib, 2}, {64*kib + 1, 2}, {128 * kib, 2}, {128*kib + 1, 3},
		{256 * kib, 3}, {mib, 5}, {10 * mib, 9}, {100 * mib, 12}, {1 << 30, 15}, {1 << 40, 15},
	} {
		if got := p.Threshold(tc.size); got != tc.want {
			t.Errorf("Threshold(%d): got %d, want %d", tc.size, got, tc.want)
		}
	}
}

func TestDisabledAdmitsAll(t *testing.T) {
	var nilPolicy *Policy
	off := newTestPolicy(t, Config{Capacity: mib})
	for _, p := range []*Policy{nilPolicy, off} {
		p.Record(1)
		p.Evicted(1)
		p.Stored(1)
		if !p.Admit(1, 1<<40) {
			t.Errorf("disabled policy refused an object")
		}
		if got := p.Stats(); got != (Stats{}) {
			t.Errorf("disabled policy: stats %+v, want zero", got)
		}
	}
}

func TestAdmitSizeAware(t *testing.T) {
	p := newTestPolicy(t, Config{Enabled: true, Capacity: 1 << 30})
	huge, small, medium := Hash([]byte("http://example.com/iso")), Hash([]byte("http://example.com/a.css")), Hash([]byte("http://example.com/m.js"))

	p.Record(huge)
	if p.Admit(huge, 100*mib) {
		t.Errorf("100 MiB one-timer admitted, want refused")
	}

	p.Record(small)
	if p.Admit(small, 4*kib) {
		t.Errorf("small object seen once admitted, want refused (doorkeeper)")
	}
	p.Record(small)
	if !p.Admit(small, 4*kib) {
		t.Errorf("small object seen twice refused, want admitted")
	}

	for i := 1; i <= 5; i++ {
		p.Record(medium)
		if got, want := p.Admit(medium, mib), i >= 5; got != want {
			t.Errorf("1 MiB object after %d requests: admitted %v, want %v", i, got, want)
		}
	}
	st := p.Stats()
	if st.Admitted != 2 || st.Rejected != 6 || st.GhostAdmits != 0 {
		t.Errorf("stats %+v, want 2 admitted, 6 rejected, 0 ghost", st)
	}
}

func TestAdmitGhost(t *testing.T) {
	p := newTestPolicy(t, Config{Enabled: true, Capacity: 64 * mib})
	for _, tc := range []struct {
		name string
		feed func(uint64)
	}{{"Evicted", p.Evicted}, {"Stored", p.Stored}} {
		t.Run(tc.name, func(t *testing.T) {
			small := Hash([]byte("http://example.com/small-" + tc.name))
			p.Record(small)
			if p.Admit(small, 8*kib) {
				t.Fatalf("small object seen once admitted before it was in the ghost list")
			}
			tc.feed(small)
			if !p.Admit(small, 8*kib) {
				t.Errorf("small object in the ghost list refused, want admitted at once")
			}

			big := Hash([]byte("http://example.com/big-" + tc.name)) // 10 MiB needs 9
			tc.feed(big)
			for i := 1; i <= 9; i++ {
				p.Record(big)
				if got, want := p.Admit(big, 10*mib), i >= 8; got != want {
					t.Errorf("10 MiB object in the ghost list after %d requests: admitted %v, want %v", i, got, want)
				}
			}
			for range 15 {
				p.Record(big)
			}
			if p.Admit(big, 65*mib) {
				t.Errorf("object larger than the capacity admitted")
			}
		})
	}
	if got := p.Stats().GhostAdmits; got != 4 {
		t.Errorf("ghost admits: got %d, want 4", got)
	}
}

func TestPolicyAllocs(t *testing.T) {
	p := newTestPolicy(t, Config{Enabled: true, Capacity: 64 * mib})
	var h uint64
	for name, fn := range map[string]func(){
		"Record":  func() { h++; p.Record(h) },
		"Admit":   func() { h++; p.Admit(h, 8*kib) },
		"Evicted": func() { h++; p.Evicted(h) },
		"Stored":  func() { h++; p.Stored(h) },
		"Hash":    func() { h += Hash([]byte("http://example.com/x")) },
	} {
		if n := testing.AllocsPerRun(1000, fn); n != 0 {
			t.Errorf("%s: %v allocations, want 0", name, n)
		}
	}
}

// TestPolicyConcurrent runs every method from several goroutines at once;
// run with -race. A key all of them keep asking for ends up admitted.
func TestPolicyConcurrent(t *testing.T) {
	p := newTestPolicy(t, Config{Enabled: true, ExpectedObjects: 256})
	const loops, ops = 4, 20_000
	hot := Hash([]byte("hot"))
	var wg sync.WaitGroup
	for l := range loops {
		wg.Go(func() {
			for i := range ops {
				h := keyHash(l*ops + i)
				p.Record(h)
				p.Record(hot)
				if !p.Admit(h, kib) {
					p.Evicted(h)
				} else {
					p.Stored(h)
				}
			}
		})
	}
	wg.Wait()
	if !p.Admit(hot, 4*mib) {
		t.Errorf("key requested %d times refused at 4 MiB (estimate %d)", loops*ops, p.sketch.Estimate(hot))
	}
	if st := p.Stats(); st.Resets == 0 || st.Admitted+st.Rejected != loops*ops+1 {
		t.Errorf("stats %+v: want resets and %d decisions", st, loops*ops+1)
	}
}

func BenchmarkPolicyRecordAdmit(b *testing.B) {
	p, _ := NewPolicy(Config{Enabled: true, Capacity: 256 * mib})
	b.ReportAllocs()
	var h uint64
	for b.Loop() {
		h++
		p.Record(h & 0xffff)
		p.Admit(h&0xffff, 8*kib)
	}
}
