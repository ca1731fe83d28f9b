package engine

import (
	"io"
	"net/http"
	"testing"
)

// RFC 9111 §5.2.1 and §5.4: request directives decide whether a stored
// response may answer. Each case stores one response (fresh for 60s, or
// already stale by 10s), then sends one request with the given fields; the
// origin answers a matching conditional request with 304.
func TestRFC9111_5_2_1_RequestDirectives(t *testing.T) {
	s := startProxy(t, nil)
	for _, tc := range []struct {
		name     string
		stale    bool
		fields   []string
		toOrigin bool // the request reaches the origin
		status   int
	}{
		{"fresh, no directive", false, nil, false, 200},
		{"max-age=0 forces revalidation", false, []string{"Cache-Control: max-age=0"}, true, 200},
		{"max-age=3600 accepts the fresh entry", false, []string{"Cache-Control: max-age=3600"}, false, 200},
		{"min-fresh=3600 is not met", false, []string{"Cache-Control: min-fresh=3600"}, true, 200},
		{"min-fresh=10 is met", false, []string{"Cache-Control: min-fresh=10"}, false, 200},
		{"no-cache forwards", false, []string{"Cache-Control: no-cache"}, true, 200},
		{"Pragma no-cache forwards", false, []string{"Pragma: no-cache"}, true, 200},
		{"Pragma ignored beside Cache-Control", false, []string{"Pragma: no-cache", "Cache-Control: max-stale=5"}, false, 200},
		{"only-if-cached, fresh", false, []string{"Cache-Control: only-if-cached"}, false, 200},
		{"stale, no directive", true, nil, true, 200},
		{"max-stale=3600 accepts stale", true, []string{"Cache-Control: max-stale=3600"}, false, 200},
		{"max-stale without value accepts stale", true, []string{"Cache-Control: max-stale"}, false, 200},
		{"max-stale=1 is exceeded", true, []string{"Cache-Control: max-stale=1"}, true, 200},
		{"only-if-cached, stale", true, []string{"Cache-Control: only-if-cached"}, false, 504},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("ETag", `"d1"`)
				if n > 1 && r.Header.Get("If-None-Match") == `"d1"` {
					w.Header().Set("Cache-Control", "max-age=60")
					w.WriteHeader(http.StatusNotModified)
					return
				}
				if tc.stale {
					staleFields(w.Header(), "")
				} else {
					w.Header().Set("Cache-Control", "max-age=60")
				}
				_, _ = io.WriteString(w, "directed")
			})
			u := o.URL + "/d"
			cacheGet(t, s, u)
			resp, got := cacheGet(t, s, u, tc.fields...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status: got %d, want %d (%q)", resp.StatusCode, tc.status, got)
			}
			if tc.status == 200 && got != "directed" {
				t.Errorf("body: got %q, want %q", got, "directed")
			}
			want := 1
			if tc.toOrigin {
				want = 2
				if inm := o.request(2).header.Get("If-None-Match"); inm != `"d1"` {
					t.Errorf("origin If-None-Match: got %q, want %q", inm, `"d1"`)
				}
			} else if tc.status == 200 {
				wantHit(t, resp, "answer")
			}
			wantOrigin(t, o, want, "")
		})
	}
}

// RFC 9111 §5.2.1.7: only-if-cached for an object the cache does not hold
// is answered 504 without contacting the origin; once the object is stored,
// it is answered from the cache.
func TestRFC9111_5_2_1_7_OnlyIfCached(t *testing.T) {
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = io.WriteString(w, "cached only")
	})
	s := startProxy(t, nil)
	u := o.URL + "/oic"
	if resp, _ := cacheGet(t, s, u, "Cache-Control: only-if-cached"); resp.StatusCode != 504 {
		t.Errorf("uncached: got %d, want 504", resp.StatusCode)
	}
	wantOrigin(t, o, 0, "only-if-cached on an uncached URL")
	cacheGet(t, s, u)
	resp, got := cacheGet(t, s, u, "Cache-Control: only-if-cached")
	if resp.StatusCode != 200 || got != "cached only" {
		t.Errorf("cached: got %d %q, want 200 %q", resp.StatusCode, got, "cached only")
	}
	wantHit(t, resp, "only-if-cached on a stored URL")
	wantOrigin(t, o, 1, "")
}
