package cache

import (
	"strings"
	"testing"
	"time"
)

// decisionCase stores a response with headers at t0, then looks it up at
// t0+after with the request headers reqH.
type decisionCase struct {
	name    string
	headers []string
	reqH    []string
	after   time.Duration
	want    Decision
}

func runDecisions(t *testing.T, cases []decisionCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			c := smallCache()
			put(t, c, newReq("GET", "http://h/d"), resp{headers: append([]string{"Date", httpDate(t0)}, tt.headers...), body: "body"})
			g := get(c, newReq("GET", "http://h/d", tt.reqH...), t0.Add(tt.after))
			if g.d != tt.want {
				t.Fatalf("got %v, want %v", g.d, tt.want)
			}
			if called := tt.want != Miss && tt.want != OnlyIfCachedMiss; g.called != called {
				t.Fatalf("callback called %v, want %v", g.called, called)
			}
		})
	}
}

func TestRFC9111_5_2_1_RequestDirectives(t *testing.T) {
	ma := []string{"Cache-Control", "max-age=100"}
	runDecisions(t, []decisionCase{
		{"fresh", ma, nil, 50 * sec, Fresh},
		{"§5.2.1.1 max-age met", ma, []string{"Cache-Control", "max-age=60"}, 50 * sec, Fresh},
		{"§5.2.1.1 max-age exceeded", ma, []string{"Cache-Control", "max-age=30"}, 50 * sec, StaleRevalidate},
		{"§5.2.1.1 max-age=0", ma, []string{"Cache-Control", "max-age=0"}, sec, StaleRevalidate},
		{"§5.2.1.3 min-fresh met", ma, []string{"Cache-Control", "min-fresh=40"}, 50 * sec, Fresh},
		{"§5.2.1.3 min-fresh not met", ma, []string{"Cache-Control", "min-fresh=60"}, 50 * sec, StaleRevalidate},
		{"§5.2.1.2 max-stale with value", ma, []string{"Cache-Control", "max-stale=30"}, 120 * sec, Fresh},
		{"§5.2.1.2 max-stale exceeded", ma, []string{"Cache-Control", "max-stale=10"}, 120 * sec, StaleRevalidate},
		{"§5.2.1.2 max-stale without value", ma, []string{"Cache-Control", "max-stale"}, 1000 * time.Hour, Fresh},
		{"§5.2.1.4 no-cache", ma, []string{"Cache-Control", "no-cache"}, 0, StaleRevalidate},
		{"§5.4 Pragma no-cache", ma, []string{"Pragma", "no-cache"}, 0, StaleRevalidate},
		{"§5.4 Pragma ignored with Cache-Control", ma, []string{"Pragma", "no-cache", "Cache-Control", "max-age=1000"}, 0, Fresh},
		{"§5.2.1.5 no-store may be served", ma, []string{"Cache-Control", "no-store"}, 0, Fresh},
		{"§5.2.1.7 only-if-cached fresh", ma, []string{"Cache-Control", "only-if-cached"}, 0, Fresh},
		{"§5.2.1.7 only-if-cached stale", ma, []string{"Cache-Control", "only-if-cached"}, 200 * sec, OnlyIfCachedMiss},
	})
}

func TestRFC9111_5_2_1_7_OnlyIfCachedMiss(t *testing.T) {
	c := smallCache()
	if g := get(c, newReq("GET", "http://h/none", "Cache-Control", "only-if-cached"), t0); g.d != OnlyIfCachedMiss {
		t.Fatalf("got %v, want %v", g.d, OnlyIfCachedMiss)
	}
	if g := get(c, newReq("GET", "http://h/none"), t0); g.d != Miss {
		t.Fatalf("got %v, want %v", g.d, Miss)
	}
}

func TestRFC9111_5_2_2_ResponseDirectives(t *testing.T) {
	anyStale := []string{"Cache-Control", "max-stale"}
	runDecisions(t, []decisionCase{
		{"§5.2.2.4 no-cache fresh", []string{"Cache-Control", "no-cache, max-age=100"}, nil, 0, StaleRevalidate},
		{"§5.2.2.4 qualified no-cache", []string{"Cache-Control", `no-cache="Set-Cookie", max-age=100`}, nil, 0, StaleRevalidate},
		{"§5.2.2.4 no-cache beats max-stale", []string{"Cache-Control", "no-cache"}, anyStale, 0, StaleRevalidate},
		{"stale accepted by max-stale", []string{"Cache-Control", "max-age=10"}, anyStale, 60 * sec, Fresh},
		{"§5.2.2.2 must-revalidate ignores max-stale", []string{"Cache-Control", "max-age=10, must-revalidate"}, anyStale, 60 * sec, StaleRevalidate},
		{"§5.2.2.8 proxy-revalidate ignores max-stale", []string{"Cache-Control", "max-age=10, proxy-revalidate"}, anyStale, 60 * sec, StaleRevalidate},
		{"§5.2.2.10 s-maxage implies proxy-revalidate", []string{"Cache-Control", "s-maxage=10"}, anyStale, 60 * sec, StaleRevalidate},
		{"§5.2.2.2 must-revalidate while fresh", []string{"Cache-Control", "max-age=100, must-revalidate"}, nil, 60 * sec, Fresh},
	})
}

func TestRFC5861_StaleWhileRevalidateAndStaleIfError(t *testing.T) {
	ext := []string{"Cache-Control", "max-age=10, stale-while-revalidate=20, stale-if-error=100"}
	runDecisions(t, []decisionCase{
		{"fresh", ext, nil, 5 * sec, Fresh},
		{"§3 within stale-while-revalidate", ext, nil, 25 * sec, StaleWhileRevalidate},
		{"§4 past swr, within stale-if-error", ext, nil, 60 * sec, StaleIfError},
		{"past both", ext, nil, 200 * sec, StaleRevalidate},
		{"§4 request stale-if-error", []string{"Cache-Control", "max-age=10"}, []string{"Cache-Control", "stale-if-error=60"}, 30 * sec, StaleIfError},
		{"must-revalidate disables both", []string{"Cache-Control", "max-age=10, must-revalidate, stale-while-revalidate=20, stale-if-error=100"}, nil, 15 * sec, StaleRevalidate},
		{"request no-cache beats swr", ext, []string{"Cache-Control", "no-cache"}, 15 * sec, StaleRevalidate},
		{"only-if-cached with stale-if-error", ext, []string{"Cache-Control", "only-if-cached"}, 60 * sec, OnlyIfCachedMiss},
	})
}

func TestHeadAnsweredFromGet(t *testing.T) {
	c := smallCache()
	put(t, c, newReq("GET", "http://h/head"), resp{headers: []string{"Cache-Control", "max-age=60"}, body: "0123456789"})
	g := get(c, newReq("HEAD", "http://h/head"), t0)
	if g.d != Fresh || g.size != 10 {
		t.Fatalf("got %v size %d, want fresh 10", g.d, g.size)
	}
	if g := get(c, newReq("POST", "http://h/head"), t0); g.d != Miss {
		t.Fatalf("POST: got %v, want miss", g.d)
	}
}

func TestRFC9110_13_2_2_NotModified(t *testing.T) {
	lm := t0.Add(-time.Hour)
	headers := []string{"Date", httpDate(t0), "Cache-Control", "max-age=60", "ETag", `W/"v1"`, "Last-Modified", httpDate(lm)}
	tests := []struct {
		name string
		reqH []string
		want bool
	}{
		{"If-None-Match weak match", []string{"If-None-Match", `"v1"`}, true},
		{"If-None-Match list", []string{"If-None-Match", `"a,b", W/"v1"`}, true},
		{"If-None-Match star", []string{"If-None-Match", `*`}, true},
		{"If-None-Match mismatch", []string{"If-None-Match", `"v2"`}, false},
		{"If-None-Match wins over If-Modified-Since", []string{"If-None-Match", `"v2"`, "If-Modified-Since", httpDate(t0)}, false},
		{"If-Modified-Since equal", []string{"If-Modified-Since", httpDate(lm)}, true},
		{"If-Modified-Since earlier", []string{"If-Modified-Since", httpDate(lm.Add(-sec))}, false},
		{"If-Modified-Since invalid", []string{"If-Modified-Since", "yesterday"}, false},
		{"If-Modified-Since in the future", []string{"If-Modified-Since", httpDate(t0.Add(time.Hour))}, false},
		{"no condition", nil, false},
	}
	c := smallCache()
	put(t, c, newReq("GET", "http://h/c"), resp{headers: headers, body: "x"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if g := get(c, newReq("GET", "http://h/c", tt.reqH...), t0); g.notModified != tt.want {
				t.Fatalf("got %v, want %v", g.notModified, tt.want)
			}
		})
	}
	t.Run("Date stands in for Last-Modified", func(t *testing.T) {
		put(t, c, newReq("GET", "http://h/nolm"), resp{headers: []string{"Date", httpDate(t0.Add(-time.Minute)), "Cache-Control", "max-age=600"}})
		if g := get(c, newReq("GET", "http://h/nolm", "If-Modified-Since", httpDate(t0.Add(-time.Minute))), t0); !g.notModified {
			t.Fatal("got false, want true")
		}
	})
	t.Run("only 2xx", func(t *testing.T) {
		put(t, c, newReq("GET", "http://h/404"), resp{status: 404, headers: []string{"ETag", `"v1"`, "Cache-Control", "max-age=60"}})
		if g := get(c, newReq("GET", "http://h/404", "If-None-Match", `"v1"`), t0); g.notModified {
			t.Fatal("got true for a 404, want false")
		}
	})
}

func TestLookupCallbackPanicReleasesLock(t *testing.T) {
	c := smallCache()
	req := newReq("GET", "http://h/p")
	put(t, c, req, resp{headers: []string{"Cache-Control", "max-age=60"}, body: "x"})
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Fatalf("recovered %v, want boom", p)
			}
		}()
		c.Lookup(AppendKey(nil, req), req, t0, func(Hit, Decision) { panic("boom") })
	}()
	done := make(chan Decision)
	go func() { done <- get(c, req, t0).d }()
	select {
	case d := <-done:
		if d != Fresh {
			t.Fatalf("got %v, want fresh", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("lookup after a panicking callback blocked: segment lock leaked")
	}
}

func TestStoredHeaderBlock(t *testing.T) {
	c := smallCache()
	req := newReq("GET", "http://h/hb")
	put(t, c, req, resp{headers: []string{
		"Date", httpDate(t0), "Content-Type", "text/plain", "Content-Length", "4", "Connection", "x-hop",
		"X-Hop", "1", "Keep-Alive", "timeout=5", "Transfer-Encoding", "chunked", "Age", "3",
		"Cache-Control", "max-age=60", "ETag", `"e"`, "Proxy-Authenticate", "Basic",
	}, body: "abcd"})
	g := get(c, req, t0)
	want := "Date: " + httpDate(t0) + "\r\nContent-Type: text/plain\r\nCache-Control: max-age=60\r\nETag: \"e\"\r\n"
	if g.header != want {
		t.Fatalf("got %q, want %q", g.header, want)
	}
	if g.etag != `"e"` || strings.Contains(g.header, "\r\n\r\n") {
		t.Fatalf("etag %q, header %q", g.etag, g.header)
	}
}
