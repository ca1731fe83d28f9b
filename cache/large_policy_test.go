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
// between two requests for one, where the tier holds 16).
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
			if s.LargeRefused != int64(refused) || s.LargeBytes > 1<<20 || s.LargeBytes != s.LargeObjects*(64<<10) {
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
	for i := range 4 {
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
