package cache

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"edgeproxy/cache/admission"
)

// admittingCache is a cache with a 4 MiB tier L and an admission policy
// sized for it.
func admittingCache(t *testing.T) *Cache {
	t.Helper()
	p, err := admission.NewPolicy(admission.Config{Enabled: true, Capacity: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{Memory: 8 << 20, LargeMemory: 4 << 20, MaxObject: 4 << 20, Admission: p})
}

// request counts n client requests for url with the policy.
func request(c *Cache, url string, n int) {
	key := AppendKey(nil, newReq("GET", url))
	for range n {
		c.Record(key)
	}
}

func isStored(c *Cache, url string) bool {
	return get(c, newReq("GET", url), t0).d == Fresh
}

// A tier with room takes every object; once full, a one-time download may
// not push out objects that clients keep asking for, but an object asked
// for often enough may.
func TestAdmissionGuardsAFullTier(t *testing.T) {
	c := admittingCache(t)
	popular := []string{"http://h/p0", "http://h/p1", "http://h/p2", "http://h/p3"}
	for i, u := range popular {
		request(c, u, 1)
		if err := writeObject(t, c, u, randomBody(int64(i), 1<<20), true); err != nil {
			t.Fatalf("%s with room: %v", u, err)
		}
		request(c, u, 5)
	}
	err := writeObject(t, c, "http://h/once", randomBody(9, 2<<20), true)
	if !errors.Is(err, ErrNotAdmitted) {
		t.Fatalf("one-time 2 MiB object into a full tier: %v, want ErrNotAdmitted", err)
	}
	for _, u := range popular {
		if !isStored(c, u) {
			t.Fatalf("%s was pushed out by a one-time download", u)
		}
	}
	// 2 MiB against a 64 KiB small size needs an estimate of 6.
	if need := c.Admission().Threshold(2 << 20); need != 6 {
		t.Fatalf("threshold for 2 MiB is %d, want 6", need)
	}
	request(c, "http://h/often", 6)
	if err := writeObject(t, c, "http://h/often", randomBody(10, 2<<20), true); err != nil {
		t.Fatalf("object requested 6 times: %v", err)
	}
	if !isStored(c, "http://h/often") {
		t.Fatal("admitted object not found")
	}
	if st := c.Admission().Stats(); st.Rejected != 1 || st.Admitted < 1 {
		t.Fatalf("stats %+v: want 1 rejection and an admission", st)
	}
}

// An object evicted from tier L for room comes back with one request fewer
// than a stranger of the same size needs (the ghost list).
func TestAdmissionGhostReadmitsEvicted(t *testing.T) {
	c := admittingCache(t)
	for i := range 4 {
		u := fmt.Sprintf("http://h/o%d", i)
		request(c, u, 4)
		if err := writeObject(t, c, u, randomBody(int64(i), 1<<20), true); err != nil {
			t.Fatal(err)
		}
	}
	// A hot newcomer evicts the least recently used, o0.
	request(c, "http://h/hot", 8)
	if err := writeObject(t, c, "http://h/hot", randomBody(7, 1<<20), true); err != nil {
		t.Fatal(err)
	}
	if isStored(c, "http://h/o0") {
		t.Fatal("o0 should have been evicted")
	}
	// 1 MiB needs 5; o0 has 4 and the ghost, the stranger 4 and no ghost.
	request(c, "http://h/stranger", 4)
	if err := writeObject(t, c, "http://h/stranger", randomBody(8, 1<<20), true); !errors.Is(err, ErrNotAdmitted) {
		t.Fatalf("stranger with 4 requests: %v, want ErrNotAdmitted", err)
	}
	if err := writeObject(t, c, "http://h/o0", randomBody(0, 1<<20), true); err != nil {
		t.Fatalf("evicted o0 coming back: %v", err)
	}
	if st := c.Admission().Stats(); st.GhostAdmits != 1 {
		t.Fatalf("ghost admits %d, want 1", st.GhostAdmits)
	}
}

// Tier S counts as full once freecache has evicted; then a small object
// needs to have been asked for before.
func TestAdmissionTierS(t *testing.T) {
	p, _ := admission.NewPolicy(admission.Config{Enabled: true, Capacity: 1 << 20})
	c := New(Options{Memory: 1 << 20, LargeMemory: 4 << 20, Admission: p})
	body := strings.Repeat("x", 500) // tier S entries here are at most 1000 bytes
	for i := 0; c.Stats().SmallEvictions == 0; i++ {
		if i > 100000 {
			t.Fatal("freecache never evicted")
		}
		put(t, c, newReq("GET", fmt.Sprintf("http://h/fill%d", i)), resp{headers: []string{"Cache-Control", "max-age=600"}, body: body})
	}
	r := resp{headers: []string{"Cache-Control", "max-age=600"}, body: body}
	request(c, "http://h/new", 1)
	if err := tryPut(c, newReq("GET", "http://h/new"), r); !errors.Is(err, ErrNotAdmitted) {
		t.Fatalf("first request into a full tier S: %v, want ErrNotAdmitted", err)
	}
	request(c, "http://h/new", 1)
	if err := tryPut(c, newReq("GET", "http://h/new"), r); err != nil {
		t.Fatalf("second request: %v", err)
	}
}

// Issue 17: a prefetched object goes through admission like any other
// (it used to skip the vote, and prefetches mostly evicted objects that
// were then asked for): into a full tier, one nobody has asked for is
// refused, for both tier-L policies; with room it is stored and says so on
// its hits.
func TestAdmissionPrefetchIsVotedOn(t *testing.T) {
	prefetch := func(c *Cache, u string) error {
		req := newReq("GET", u)
		m := resp{headers: []string{"Cache-Control", "max-age=600"}}.meta()
		m.ContentLength = 1 << 20
		m.Prefetch = true
		w := c.NewWriter(AppendKey(nil, req), req, m)
		if _, err := w.Write(randomBody(5, 1<<20)); err != nil {
			return err
		}
		return w.Commit()
	}
	for _, policy := range []Policy{PolicyLRU, PolicyEdge} {
		p, _ := admission.NewPolicy(admission.Config{Enabled: true, Capacity: 6 << 20})
		c := New(Options{Memory: 1 << 20, LargeMemory: 5 << 20, Admission: p, Policy: policy})
		if err := prefetch(c, "http://h/early"); err != nil {
			t.Fatalf("policy %d: prefetch into a tier with room: %v", policy, err)
		}
		req := newReq("GET", "http://h/early")
		var pre bool
		if d := c.Lookup(AppendKey(nil, req), req, t0, func(h Hit, _ Decision) { pre = h.Prefetched }); d != Fresh || !pre {
			t.Fatalf("policy %d: decision %v, prefetched %v: want a fresh prefetched hit", policy, d, pre)
		}
		// Fill tier L: under PolicyEdge it also holds the part of tier S's
		// memory that tier S has not used.
		n := int(c.Stats().LargeLimit>>20) - 1
		for i := range n {
			u := fmt.Sprintf("http://h/o%d", i)
			for range 3 {
				request(c, u, 1)
			}
			if err := writeObject(t, c, u, randomBody(int64(i), 1<<20), true); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				get(c, newReq("GET", u), t0)
			}
		}
		if err := prefetch(c, "http://h/predicted"); !errors.Is(err, ErrNotAdmitted) {
			t.Fatalf("policy %d: prefetch into a full tier: got %v, want %v", policy, err, ErrNotAdmitted)
		}
		if g := get(c, newReq("GET", "http://h/o3"), t0); g.d != Fresh {
			t.Fatalf("policy %d: o3 gone", policy)
		}
	}
}
