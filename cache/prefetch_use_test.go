package cache

import (
	"strings"
	"testing"
)

// Issue 17: a prefetch counts as useful once, when its object is first
// served (used before evicted), in either tier; Stats counts the
// prefetches stored.
func TestPrefetchUsedOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
	}{
		{"tier S", 100},
		{"tier L", 64 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Options{Memory: 8 << 20, LargeMemory: 64 << 20, Policy: PolicyEdge})
			req := newReq("GET", "http://h/predicted")
			m := resp{headers: []string{"Cache-Control", "max-age=600"}, body: strings.Repeat("p", tc.size)}.meta()
			m.Prefetch = true
			w := c.NewWriter(AppendKey(nil, req), req, m)
			if _, err := w.Write([]byte(strings.Repeat("p", tc.size))); err != nil {
				t.Fatal(err)
			}
			if err := w.Commit(); err != nil {
				t.Fatal(err)
			}
			var got []bool
			for range 3 {
				c.Lookup(AppendKey(nil, req), req, t0, func(h Hit, _ Decision) {
					pre := h.Prefetched
					if h.ClaimPrefetch() != pre {
						t.Error("ClaimPrefetch differs from Prefetched")
					}
					got = append(got, pre)
				})
			}
			if len(got) != 3 || !got[0] || got[1] || got[2] {
				t.Errorf("got Prefetched %v on three claimed hits, want [true false false]", got)
			}
			if s := c.Stats(); s.PrefetchStores != 1 {
				t.Errorf("got %d prefetch stores, want 1", s.PrefetchStores)
			}
		})
	}
}
