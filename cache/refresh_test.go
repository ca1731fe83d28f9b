package cache

import (
	"regexp"
	"testing"
	"time"
)

// Issue 17: refresh rules set the freshness of responses without an
// explicit expiry, by URL, as Squid's refresh_pattern does.
func TestRefreshRules(t *testing.T) {
	rules := []RefreshRule{
		{Pattern: regexp.MustCompile(`\.deb$`), Min: 720 * time.Hour, Max: 8760 * time.Hour, Percent: 100, Immutable: true},
		{Pattern: regexp.MustCompile(`/Release$`), Max: 0},
		{Pattern: regexp.MustCompile(`\.iso$`), Min: time.Hour, Max: 48 * time.Hour, Percent: 50},
	}
	c := New(Options{Memory: 8 << 20, LargeMemory: 64 << 20, RefreshRules: rules})
	lm := httpDate(t0.Add(-10 * time.Hour))
	for _, tc := range []struct {
		name    string
		url     string
		headers []string
		reqHdr  []string
		want    Decision
		ttl     time.Duration
	}{
		{"deb without validators", "http://h/pool/a.deb", nil, nil, Fresh, 8760 * time.Hour},
		{"deb with max-age=0 and a reload", "http://h/pool/b.deb", []string{"Cache-Control", "max-age=0"}, []string{"Cache-Control", "no-cache"}, Fresh, 8760 * time.Hour},
		{"release with Last-Modified", "http://h/dists/Release", []string{"Last-Modified", lm}, nil, StaleRevalidate, 0},
		{"iso: half the time since Last-Modified", "http://h/x.iso", []string{"Last-Modified", lm}, nil, Fresh, 5 * time.Hour},
		{"iso without Last-Modified: min", "http://h/y.iso", nil, nil, Fresh, time.Hour},
		{"iso with max-age: explicit wins", "http://h/z.iso", []string{"Cache-Control", "max-age=60"}, nil, Fresh, time.Minute},
		{"no rule: default heuristic", "http://h/page", []string{"Last-Modified", lm}, nil, Fresh, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			put(t, c, newReq("GET", tc.url), resp{headers: append([]string{"Date", httpDate(t0)}, tc.headers...), body: "x"})
			g := get(c, newReq("GET", tc.url, tc.reqHdr...), t0)
			if g.d != tc.want || g.ttl != tc.ttl {
				t.Errorf("got %v with ttl %v, want %v with ttl %v", g.d, g.ttl, tc.want, tc.ttl)
			}
		})
	}
}
