package sim

import (
	"fmt"
	"math"
	"testing"

	"edgeproxy/bench/trace/tracelog"
	"edgeproxy/cache/prefetch"
)

// visits builds a trace of n visits 100 s apart: a returning browser asks
// for page P and, a second later, its image I; at +50 s another client
// fetches two one-time fillers, at +60 s a crawler asks for P alone, and
// at +70 s two more fillers come. In an LRU of 200 bytes the fillers push
// P and I out, so without prefetching every visit misses both.
func visits(n int) *Trace {
	sizes := map[string]int64{"P": 10, "I": 100}
	var reqs []tracelog.Request
	add := func(key string, client int, ms int64) {
		if _, ok := sizes[key]; !ok {
			sizes[key] = 100
		}
		reqs = append(reqs, tracelog.Request{Index: len(reqs), Key: key, Size: sizes[key], Client: client, Time: ms})
	}
	for k := range n {
		t := int64(k) * 100_000
		add("P", 0, t)
		add("I", 0, t+1000)
		add(fmt.Sprintf("F%d-1", k), 1, t+50_000)
		add(fmt.Sprintf("F%d-2", k), 1, t+50_000)
		add("P", 2, t+60_000)
		add(fmt.Sprintf("F%d-3", k), 1, t+70_000)
		add(fmt.Sprintf("F%d-4", k), 1, t+70_000)
	}
	return NewTrace(reqs, true)
}

// Issue 17: prefetching in the simulator goes through the policy, counts
// a prefetch used only if the next request for its object hits, and
// accounts uplink as client misses plus prefetched bytes. With Proof 1
// the crawler, which never follows a prediction, costs nothing.
func TestRunPrefetch(t *testing.T) {
	tr := visits(10)
	for _, tc := range []struct {
		name      string
		proof     int
		wantWaste bool
	}{
		{"every client", 0, true},
		{"proof 1", 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, _ := New("lru", tr, 200)
			p, _ := New("lru", tr, 200)
			cfg := PrefetchConfig{Options: prefetch.Options{Window: 4, Threshold: 0.4, MinCount: 2, Proof: tc.proof}}
			r := RunPrefetch("lru", tr, 200, base, p.(Storer), cfg)
			if r.BaseMisses != 70 {
				t.Errorf("base misses: got %d, want 70 (every request)", r.BaseMisses)
			}
			if r.Used < 5 {
				t.Errorf("used: got %d, want at least 5 (the browser's I, once learned)", r.Used)
			}
			if waste := r.Prefetches > r.Used; waste != tc.wantWaste {
				t.Errorf("prefetches %d, used %d: wasted some = %t, want %t", r.Prefetches, r.Used, waste, tc.wantWaste)
			}
			if got, want := r.BaseMisses-r.Misses, r.Used; got != want {
				t.Errorf("misses removed: got %d, want %d (one per used prefetch)", got, want)
			}
			extra := float64(r.MissBytes+r.PrefetchBytes-r.BaseMissBytes) / float64(r.BaseMissBytes)
			if math.Abs(r.ExtraUplink-extra) > 1e-12 || math.Abs(r.WastedUplink-float64(r.PrefetchBytes-r.UsedBytes)/float64(r.BaseMissBytes)) > 1e-12 {
				t.Errorf("extra uplink %g, wasted %g: not (misses + prefetches − base) / base", r.ExtraUplink, r.WastedUplink)
			}
			if r.Precision != float64(r.Used)/float64(r.Prefetches) {
				t.Errorf("precision: got %g, want used/prefetches", r.Precision)
			}
			if r.FirstMisses != int64(tr.Objects) {
				t.Errorf("first misses: got %d, want %d (one per object)", r.FirstMisses, tr.Objects)
			}
		})
	}
}

// With a Lag, the browser's request for I, right after P, joins the
// prefetch in flight: a miss as without prefetching, fetched once, and the
// prefetch is not used. Prefetching then neither removes misses nor adds
// uplink.
func TestRunPrefetchLag(t *testing.T) {
	tr := visits(10)
	base, _ := New("lru", tr, 200)
	p, _ := New("lru", tr, 200)
	cfg := PrefetchConfig{Options: prefetch.Options{Window: 4, Threshold: 0.4, MinCount: 2, Proof: 1}, Lag: 1}
	r := RunPrefetch("lru", tr, 200, base, p.(Storer), cfg)
	if r.Prefetches == 0 || r.Collapsed != r.Prefetches || r.Used != 0 {
		t.Errorf("prefetches %d, collapsed %d, used %d: want every prefetch joined by its request, none used", r.Prefetches, r.Collapsed, r.Used)
	}
	if r.Misses != r.BaseMisses || r.ExtraUplink != 0 {
		t.Errorf("misses %d (base %d), extra uplink %g: want the same misses and no extra uplink", r.Misses, r.BaseMisses, r.ExtraUplink)
	}
}
