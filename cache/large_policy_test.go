package cache

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Issue 17: under PolicyEdge a stream of one-time large objects cannot
// flush large objects that keep being asked for; under PolicyLRU it does
// (8 popular objects, asked for after every 10 one-timers: 18 objects
// between two requests for one, where the LRU tier holds 16).
func TestLargePolicyKeepsPopularObjectsThroughAScan(t *testing.T) {
	for _, tc := range []struct {
		name    string
		policy  Policy
		wantHit bool
	}{
		{"lru", PolicyLRU, false},
		{"edge", PolicyEdge, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Options{Memory: 1 << 20, LargeMemory: 1 << 20, Policy: tc.policy})
			body := strings.Repeat("p", 64<<10)
			popular := func(i int) string { return fmt.Sprintf("http://h/popular/%d", i) }
			for i := range 8 {
				put(t, c, newReq("GET", popular(i)), resp{headers: []string{"Cache-Control", "max-age=600"}, body: body})
			}
			for range 3 {
				for i := range 8 {
					if g := get(c, newReq("GET", popular(i)), t0); g.d != Fresh {
						t.Fatalf("%s: got %v, want fresh", popular(i), g.d)
					}
				}
			}
			refused, hits := 0, 0
			for i := range 100 {
				err := tryPut(c, newReq("GET", fmt.Sprintf("http://h/once/%d", i)), resp{headers: []string{"Cache-Control", "max-age=600"}, body: body})
				switch {
				case errors.Is(err, ErrNotAdmitted):
					refused++
				case err != nil:
					t.Fatal(err)
				}
				if i%10 != 9 {
					continue
				}
				for j := range 8 {
					req := newReq("GET", popular(j))
					if g := get(c, req, t0); g.d == Fresh {
						hits++
					} else {
						_ = tryPut(c, req, resp{headers: []string{"Cache-Control", "max-age=600"}, body: body})
					}
				}
			}
			if got := hits == 80; got != tc.wantHit {
				t.Errorf("during the scan %d of 80 requests for popular objects were hits; want all: %v", hits, tc.wantHit)
			}
			s := c.Stats()
			if s.LargeRefused != int64(refused) || s.LargeBytes > s.LargeLimit || s.LargeBytes != s.LargeObjects*(64<<10) {
				t.Errorf("stats %+v after %d refusals: want them counted and the bytes within the budget", s, refused)
			}
		})
	}
}

// Issue 17: a refused object is told at the start of its fill when its
// length is known, so its body is not buffered for nothing.
func TestLargePolicyRefusesAtStart(t *testing.T) {
	c := New(Options{Memory: 1 << 20, LargeMemory: 256 << 10, Policy: PolicyEdge})
	body := strings.Repeat("p", 64<<10)
	for i := range int(c.Stats().LargeLimit / (64 << 10)) {
		req := newReq("GET", fmt.Sprintf("http://h/p/%d", i))
		put(t, c, req, resp{headers: []string{"Cache-Control", "max-age=600"}, body: body})
		for range 3 {
			get(c, req, t0)
		}
	}
	req := newReq("GET", "http://h/new")
	w := c.NewWriter(AppendKey(nil, req), req, resp{headers: []string{"Cache-Control", "max-age=600"}, body: body}.meta())
	if err := w.Refused(); !errors.Is(err, ErrNotAdmitted) {
		t.Fatalf("got %v, want %v", err, ErrNotAdmitted)
	}
}

// Issue 17: under PolicyEdge the tiers share one budget: tier L holds, beyond
// LargeMemory, the part of Memory tier S has not written yet, and gives it
// back at once, evicting, as tier S fills.
func TestLargeBorrowsUnusedTierS(t *testing.T) {
	c := New(Options{Memory: 1 << 20, LargeMemory: 1 << 20, Policy: PolicyEdge})
	if s := c.Stats(); s.LargeLimit != 2<<20 {
		t.Fatalf("got a tier-L limit of %d with tier S empty, want %d", s.LargeLimit, 2<<20)
	}
	body := strings.Repeat("p", 64<<10)
	for i := range 32 {
		put(t, c, newReq("GET", fmt.Sprintf("http://h/large/%d", i)), resp{headers: []string{"Cache-Control", "max-age=600"}, body: body})
	}
	if s := c.Stats(); s.LargeObjects != 32 {
		t.Fatalf("got %d tier-L objects, want 32 (2 MiB)", s.LargeObjects)
	}
	small := strings.Repeat("s", 500)
	for i := range 1000 {
		put(t, c, newReq("GET", fmt.Sprintf("http://h/small/%d", i)), resp{headers: []string{"Cache-Control", "max-age=600"}, body: small})
	}
	s := c.Stats()
	if s.LargeLimit >= 2<<20 || s.LargeLimit < 1<<20 || s.LargeBytes > s.LargeLimit || s.LargeObjects >= 32 {
		t.Fatalf("after tier S took about 600 KiB: stats %+v; want the limit lowered and tier L within it", s)
	}
	for i := range 2000 {
		put(t, c, newReq("GET", fmt.Sprintf("http://h/more/%d", i)), resp{headers: []string{"Cache-Control", "max-age=600"}, body: small})
	}
	if s := c.Stats(); s.LargeLimit != 1<<20 || s.LargeBytes > 1<<20 {
		t.Fatalf("with tier S full: stats %+v; want tier L back to LargeMemory", s)
	}
	lru := New(Options{Memory: 1 << 20, LargeMemory: 1 << 20, Policy: PolicyLRU})
	if s := lru.Stats(); s.LargeLimit != 1<<20 {
		t.Fatalf("PolicyLRU: got a limit of %d, want LargeMemory", s.LargeLimit)
	}
}
