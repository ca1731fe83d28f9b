package engine

import (
	"io"
	"net/http"
	"testing"
	"time"

	"edgeproxy/engine/config"
)

// RFC 9111 §4.2.1: a shared cache takes s-maxage over max-age (and over
// Expires), in both directions.
func TestRFC9111_4_2_1_SMaxAgeOverMaxAge(t *testing.T) {
	s := startProxy(t, nil)
	for _, tc := range []struct {
		cc  string
		hit bool
	}{
		{"max-age=0, s-maxage=60", true},
		{"max-age=60, s-maxage=0", false},
		{"s-maxage=60", true},
	} {
		t.Run(tc.cc, func(t *testing.T) {
			o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Cache-Control", tc.cc)
				w.Header().Set("Expires", "Thu, 01 Jan 1970 00:00:00 GMT")
				_, _ = io.WriteString(w, "shared")
			})
			u := o.URL + "/s"
			cacheGet(t, s, u)
			resp, got := cacheGet(t, s, u)
			if got != "shared" {
				t.Fatalf("second GET: got %q", got)
			}
			if isHit(resp) != tc.hit {
				t.Errorf("second GET: X-Cache %q, want hit=%v", resp.Header.Get("X-Cache"), tc.hit)
			}
			want := 2
			if tc.hit {
				want = 1
				wantTTL(t, resp, 57, 60)
			}
			wantOrigin(t, o, want, "two GETs")
		})
	}
}

// RFC 9111 §4.2.1: without max-age or s-maxage, the freshness lifetime is
// Expires minus Date; an Expires not after Date, or not a valid date, means
// already stale.
func TestRFC9111_4_2_1_ExpiresMinusDate(t *testing.T) {
	s := startProxy(t, nil)
	for _, tc := range []struct {
		name          string
		dateOffset    time.Duration // Date relative to now
		expiresOffset time.Duration // Expires relative to Date
		expires       string        // literal Expires, overrides the offset
		hit           bool
		ttlLo, ttlHi  int
	}{
		{name: "expires in 60s", expiresOffset: 60 * time.Second, hit: true, ttlLo: 57, ttlHi: 60},
		{name: "date 30s ago, expires 60s after date", dateOffset: -30 * time.Second, expiresOffset: 60 * time.Second, hit: true, ttlLo: 26, ttlHi: 30},
		{name: "expires equals date", expiresOffset: 0},
		{name: "expires before date", expiresOffset: -time.Hour},
		{name: "invalid expires", expires: "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
				date := time.Now().Add(tc.dateOffset)
				w.Header().Set("Date", httpDate(date))
				if tc.expires != "" {
					w.Header().Set("Expires", tc.expires)
				} else {
					w.Header().Set("Expires", httpDate(date.Add(tc.expiresOffset)))
				}
				_, _ = io.WriteString(w, "expiring")
			})
			u := o.URL + "/e"
			cacheGet(t, s, u)
			resp, got := cacheGet(t, s, u)
			if got != "expiring" {
				t.Fatalf("second GET: got %q", got)
			}
			if isHit(resp) != tc.hit {
				t.Errorf("second GET: X-Cache %q, want hit=%v", resp.Header.Get("X-Cache"), tc.hit)
			}
			want := 2
			if tc.hit {
				want = 1
				wantTTL(t, resp, tc.ttlLo, tc.ttlHi)
			}
			wantOrigin(t, o, want, "two GETs")
		})
	}
}

// RFC 9111 §4.2.2: a 200 without explicit expiry but with Last-Modified is
// fresh for cache.heuristic_percent (10 by default) of the time since
// Last-Modified, capped at cache.heuristic_max; heuristic_percent 0 turns
// heuristic freshness off.
func TestRFC9111_4_2_2_HeuristicFreshness(t *testing.T) {
	for _, tc := range []struct {
		name         string
		mutate       func(*config.Config)
		lastModified time.Duration // before now; 0 sends none
		hit          bool
		ttlLo, ttlHi int
	}{
		{name: "10% of 1000s", lastModified: 1000 * time.Second, hit: true, ttlLo: 96, ttlHi: 100},
		{name: "50% of 1000s", mutate: func(c *config.Config) { c.Cache.HeuristicPercent = new(50) },
			lastModified: 1000 * time.Second, hit: true, ttlLo: 496, ttlHi: 500},
		{name: "capped by heuristic_max", mutate: func(c *config.Config) { c.Cache.HeuristicMax = config.Duration(5 * time.Second) },
			lastModified: 1000 * time.Second, hit: true, ttlLo: 2, ttlHi: 5},
		{name: "heuristic_percent 0", mutate: func(c *config.Config) { c.Cache.HeuristicPercent = new(0) },
			lastModified: 1000 * time.Second},
		{name: "no Last-Modified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startProxy(t, tc.mutate)
			o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
				now := time.Now()
				w.Header().Set("Date", httpDate(now))
				if tc.lastModified != 0 {
					w.Header().Set("Last-Modified", httpDate(now.Add(-tc.lastModified)))
				}
				_, _ = io.WriteString(w, "heuristic")
			})
			u := o.URL + "/h"
			cacheGet(t, s, u)
			resp, got := cacheGet(t, s, u)
			if got != "heuristic" {
				t.Fatalf("second GET: got %q", got)
			}
			if isHit(resp) != tc.hit {
				t.Errorf("second GET: X-Cache %q, want hit=%v", resp.Header.Get("X-Cache"), tc.hit)
			}
			want := 2
			if tc.hit {
				want = 1
				wantTTL(t, resp, tc.ttlLo, tc.ttlHi)
			}
			wantOrigin(t, o, want, "two GETs")
		})
	}
}

// RFC 9111 §4.2.3 and §5.1: Age counts the Age the origin sent, and grows
// while the response sits in the cache.
func TestRFC9111_4_2_3_Age(t *testing.T) {
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Age", "100")
		_, _ = io.WriteString(w, "aged")
	})
	s := startProxy(t, nil)
	u := o.URL + "/age"

	first, _ := cacheGet(t, s, u)
	if age := ageOf(t, first); age < 100 {
		t.Errorf("miss Age: got %d, want at least 100", age)
	}
	second, _ := cacheGet(t, s, u)
	wantHit(t, second, "second GET")
	a2 := ageOf(t, second)
	if a2 < 100 || a2 > 102 {
		t.Errorf("hit Age: got %d, want 100 to 102", a2)
	}
	wantTTL(t, second, 3600-102, 3500)

	time.Sleep(1100 * time.Millisecond)
	third, _ := cacheGet(t, s, u)
	wantHit(t, third, "third GET")
	if a3 := ageOf(t, third); a3 < a2+1 {
		t.Errorf("Age after 1.1s: got %d, want at least %d", a3, a2+1)
	}
	wantOrigin(t, o, 1, "three GETs")
}
