package cache

import (
	"testing"
	"time"
)

const sec = time.Second

// freshAt stores a 200 with headers at t0, looks it up at t0+after and
// returns what the lookup saw.
func freshAt(t *testing.T, c *Cache, headers []string, after time.Duration) got {
	t.Helper()
	req := newReq("GET", "http://h/f")
	put(t, c, req, resp{headers: headers, body: "x"})
	return get(c, req, t0.Add(after))
}

func wantDecision(t *testing.T, g got, d Decision, ttl time.Duration) {
	t.Helper()
	if g.d != d {
		t.Fatalf("decision: got %v, want %v", g.d, d)
	}
	if g.ttl != ttl {
		t.Fatalf("ttl: got %v, want %v", g.ttl, ttl)
	}
}

func TestRFC9111_4_2_1_SMaxAgeOverMaxAge(t *testing.T) {
	h := []string{"Date", httpDate(t0), "Cache-Control", "max-age=10, s-maxage=100"}
	wantDecision(t, freshAt(t, smallCache(), h, 50*sec), Fresh, 50*sec)
}

func TestRFC9111_4_2_1_MaxAgeOverExpires(t *testing.T) {
	h := []string{"Date", httpDate(t0), "Cache-Control", "max-age=10", "Expires", httpDate(t0.Add(time.Hour))}
	wantDecision(t, freshAt(t, smallCache(), h, 20*sec), StaleRevalidate, -10*sec)
}

func TestRFC9111_4_2_1_ExpiresMinusDate(t *testing.T) {
	// The origin's clock is 30 s behind: Expires counts from Date, and the
	// response is already 30 s old on arrival.
	date := t0.Add(-30 * sec)
	h := []string{"Date", httpDate(date), "Expires", httpDate(date.Add(100 * sec))}
	g := freshAt(t, smallCache(), h, 0)
	wantDecision(t, g, Fresh, 70*sec)
	if g.age != 30*sec {
		t.Fatalf("age: got %v, want %v", g.age, 30*sec)
	}
}

func TestRFC9111_5_3_InvalidExpiresIsExpired(t *testing.T) {
	for _, exp := range []string{"0", "-1", "tomorrow", ""} {
		h := []string{"Date", httpDate(t0), "Expires", exp, "Last-Modified", httpDate(t0.Add(-100 * time.Hour))}
		if g := freshAt(t, smallCache(), h, 0); g.d != StaleRevalidate {
			t.Errorf("Expires %q: got %v, want %v", exp, g.d, StaleRevalidate)
		}
	}
}

func TestRFC9111_4_2_1_DuplicateExpiresIsStale(t *testing.T) {
	h := []string{"Date", httpDate(t0), "Expires", httpDate(t0.Add(time.Hour)), "Expires", httpDate(t0.Add(2 * time.Hour))}
	wantDecision(t, freshAt(t, smallCache(), h, 0), StaleRevalidate, 0)
}

func TestRFC9111_4_2_2_HeuristicFreshness(t *testing.T) {
	// 10% of 5 days since Last-Modified: 12 hours.
	h := []string{"Date", httpDate(t0), "Last-Modified", httpDate(t0.Add(-5 * 24 * time.Hour))}
	wantDecision(t, freshAt(t, smallCache(), h, 11*time.Hour), Fresh, time.Hour)
	wantDecision(t, freshAt(t, smallCache(), h, 13*time.Hour), StaleRevalidate, -time.Hour)
}

func TestRFC9111_4_2_2_HeuristicCapped(t *testing.T) {
	h := []string{"Date", httpDate(t0), "Last-Modified", httpDate(t0.Add(-1000 * 24 * time.Hour))}
	wantDecision(t, freshAt(t, smallCache(), h, 0), Fresh, 24*time.Hour)
	c := New(Options{Memory: 8 << 20, HeuristicPercent: 50, HeuristicMax: time.Hour})
	wantDecision(t, freshAt(t, c, h, 0), Fresh, time.Hour)
}

func TestRFC9111_4_2_2_NoHeuristicWithExplicitExpiry(t *testing.T) {
	h := []string{"Date", httpDate(t0), "Cache-Control", "max-age=0", "Last-Modified", httpDate(t0.Add(-100 * 24 * time.Hour))}
	wantDecision(t, freshAt(t, smallCache(), h, 0), StaleRevalidate, 0)
}

func TestRFC9111_4_2_2_HeuristicOnlyForHeuristicStatus(t *testing.T) {
	c := smallCache()
	req := newReq("GET", "http://h/redirect")
	lm := httpDate(t0.Add(-100 * 24 * time.Hour))
	// 302 is storable here only thanks to Expires in the past: no heuristic.
	put(t, c, req, resp{status: 302, headers: []string{"Date", httpDate(t0), "Expires", httpDate(t0), "Last-Modified", lm}})
	if g := get(c, req, t0); g.d != StaleRevalidate {
		t.Fatalf("302: got %v, want %v", g.d, StaleRevalidate)
	}
	// public makes a response heuristically cacheable whatever its status.
	put(t, c, req, resp{status: 302, headers: []string{"Date", httpDate(t0), "Cache-Control", "public", "Last-Modified", lm}})
	if g := get(c, req, t0); g.d != Fresh {
		t.Fatalf("302 public: got %v, want %v", g.d, Fresh)
	}
}

func TestHeuristicDisabled(t *testing.T) {
	c := New(Options{Memory: 8 << 20, HeuristicPercent: -1})
	h := []string{"Date", httpDate(t0), "Last-Modified", httpDate(t0.Add(-100 * 24 * time.Hour))}
	wantDecision(t, freshAt(t, c, h, 0), StaleRevalidate, 0)
}

func TestRFC9111_4_2_3_AgeWithDateInPast(t *testing.T) {
	h := []string{"Date", httpDate(t0.Add(-40 * sec)), "Cache-Control", "max-age=60"}
	g := freshAt(t, smallCache(), h, 0)
	if g.age != 40*sec || g.ttl != 20*sec {
		t.Fatalf("got age %v ttl %v, want 40s and 20s", g.age, g.ttl)
	}
}

func TestRFC9111_4_2_3_AgeHeaderPlusResponseDelay(t *testing.T) {
	c := smallCache()
	req := newReq("GET", "http://h/age")
	put(t, c, req, resp{sent: t0.Add(-2 * sec), headers: []string{"Date", httpDate(t0), "Age", "30", "Cache-Control", "max-age=60"}})
	g := get(c, req, t0.Add(10*sec))
	// corrected_age_value = 30 + 2 s delay, plus 10 s resident.
	if g.age != 42*sec || g.ttl != 18*sec {
		t.Fatalf("got age %v ttl %v, want 42s and 18s", g.age, g.ttl)
	}
	if g.header != "Date: "+httpDate(t0)+"\r\nCache-Control: max-age=60\r\n" {
		t.Fatalf("stored Age: got header %q", g.header)
	}
}

func TestRFC9111_4_2_3_ClockSkewDateInFuture(t *testing.T) {
	h := []string{"Date", httpDate(t0.Add(time.Hour)), "Cache-Control", "max-age=60"}
	g := freshAt(t, smallCache(), h, 5*sec)
	if g.age != 5*sec {
		t.Fatalf("got age %v, want 5s (apparent age clamped at zero)", g.age)
	}
}

func TestRFC9111_4_2_3_ClockBackwards(t *testing.T) {
	g := freshAt(t, smallCache(), []string{"Date", httpDate(t0), "Cache-Control", "max-age=60"}, -time.Hour)
	if g.age != 0 || g.d != Fresh {
		t.Fatalf("got age %v %v, want 0 and fresh", g.age, g.d)
	}
}

func TestRFC9110_6_6_1_DateAddedWhenMissing(t *testing.T) {
	g := freshAt(t, smallCache(), []string{"Cache-Control", "max-age=60"}, 0)
	want := "Cache-Control: max-age=60\r\nDate: " + httpDate(t0) + "\r\n"
	if g.header != want {
		t.Fatalf("got %q, want %q", g.header, want)
	}
}
