package sim

import (
	"fmt"
	"math/rand"
	"testing"

	"edgeproxy/bench/trace/tracelog"
)

// trace builds a trace from keys of the given sizes.
func trace(keys []string, sizes map[string]int64) *Trace {
	reqs := make([]tracelog.Request, len(keys))
	for i, k := range keys {
		reqs[i] = tracelog.Request{Index: i, Key: k, Size: sizes[k], Time: int64(i) * 1000}
	}
	return NewTrace(reqs, true)
}

func TestPoliciesOnAKnownSequence(t *testing.T) {
	sizes := map[string]int64{"a": 10, "b": 10, "c": 10, "d": 30}
	seq := []string{"a", "b", "c", "a", "d", "a", "b", "c", "a"}
	tr := trace(seq, sizes)
	for _, tc := range []struct {
		policy string
		hits   int64
	}{
		// a, b, c fill the 30 bytes; a hits; d flushes them all; a, b, c
		// miss again and the last a hits.
		{"lru", 2},
		// d is never asked for again, so it is not stored: every later
		// request hits.
		{"belady", 5},
	} {
		p, err := New(tc.policy, tr, 30)
		if err != nil {
			t.Fatal(err)
		}
		if res := Run(tc.policy, tr, 30, p); res.Hits != tc.hits {
			t.Errorf("%s: got %d hits, want %d", tc.policy, res.Hits, tc.hits)
		}
	}
}

// Belady is the offline optimum for hits among these policies (with
// furthest-next-use eviction it is a reference, not a proof, for variable
// sizes; with equal sizes it is optimal).
func TestBeladyBoundsTheOthersOnEqualSizes(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	sizes := map[string]int64{}
	var seq []string
	for range 20000 {
		k := fmt.Sprintf("o%d", int(rng.ExpFloat64()*50))
		sizes[k] = 100
		seq = append(seq, k)
	}
	tr := trace(seq, sizes)
	capacity := tr.Bytes / 10
	var results []Result
	for _, name := range Policies {
		p, err := New(name, tr, capacity)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, Run(name, tr, capacity, p))
	}
	var opt Result
	for _, r := range results {
		if r.Policy == "belady" {
			opt = r
		}
	}
	for _, r := range results {
		if r.Hits > opt.Hits {
			t.Errorf("%s: got %d hits, more than belady's %d", r.Policy, r.Hits, opt.Hits)
		}
		if r.Requests != int64(len(seq)) {
			t.Errorf("%s: got %d requests, want %d", r.Policy, r.Requests, len(seq))
		}
	}
}

// Without skew (every object equally likely) Edge must do at least as well
// as LRU.
func TestEdgeMatchesLRUWithoutSkew(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	sizes := map[string]int64{}
	var seq []string
	for i := range 1000 {
		sizes[fmt.Sprintf("o%d", i)] = int64(1000 + rng.Intn(100000))
	}
	for range 50000 {
		seq = append(seq, fmt.Sprintf("o%d", rng.Intn(1000)))
	}
	tr := trace(seq, sizes)
	for _, pct := range []int64{1, 5, 10} {
		capacity := tr.Bytes * pct / 100
		lru, _ := New("lru", tr, capacity)
		l := Run("lru", tr, capacity, lru)
		e := Run("edge", tr, capacity, NewEdge(tr, capacity, EdgeConfig{}))
		if e.HitRatio < l.HitRatio || e.ByteHitRatio < l.ByteHitRatio-0.01 {
			t.Errorf("%d%%: edge HR %.3f BHR %.3f, LRU HR %.3f BHR %.3f", pct, e.HitRatio, e.ByteHitRatio, l.HitRatio, l.ByteHitRatio)
		}
	}
}
