package engine

import (
	"io"
	"net/http"
	"strconv"
	"testing"
)

// purge sends PURGE for u and returns the status.
func purge(t *testing.T, s *Server, u string) int {
	t.Helper()
	rc := dialRaw(t, s)
	rc.send(cacheRequest("PURGE", u))
	resp := rc.response("PURGE")
	_ = bodyOf(t, resp)
	return resp.StatusCode
}

// PURGE <URL> from loopback removes what is stored for the URL: 200 when
// something was removed, 404 otherwise; the next GET goes to the origin.
func TestCachePurge(t *testing.T) {
	large := patternBody(300<<10, 7)
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Cache-Control", "max-age=60")
		if r.URL.Path == "/large" {
			w.Header().Set("Content-Length", strconv.Itoa(len(large)))
			_, _ = w.Write(large)
			return
		}
		_, _ = io.WriteString(w, "purgeable")
	})
	s := startProxy(t, nil)

	if got := purge(t, s, o.URL+"/never"); got != 404 {
		t.Errorf("PURGE of an uncached URL: got %d, want 404", got)
	}
	for _, path := range []string{"/small", "/large"} {
		t.Run(path, func(t *testing.T) {
			u := o.URL + path
			before := o.count()
			cacheGet(t, s, u)
			if resp, _ := cacheGet(t, s, u); !isHit(resp) {
				t.Fatalf("not stored: X-Cache %q", resp.Header.Get("X-Cache"))
			}
			if got := purge(t, s, u); got != 200 {
				t.Errorf("first PURGE: got %d, want 200", got)
			}
			if got := purge(t, s, u); got != 404 {
				t.Errorf("second PURGE: got %d, want 404", got)
			}
			resp, _ := cacheGet(t, s, u)
			if isHit(resp) {
				t.Errorf("GET after PURGE: X-Cache %q, want a miss", resp.Header.Get("X-Cache"))
			}
			wantOrigin(t, o, before+2, "GET, GET, PURGE, GET")
		})
	}
}

// PURGE removes every variant of a URL whose responses vary.
func TestCachePurgeVariants(t *testing.T) {
	o := varyOrigin(t, "Accept-Encoding")
	s := startProxy(t, nil)
	u := o.URL + "/variants"
	encs := []string{"gzip", "identity", "br"}
	for _, enc := range encs {
		cacheGet(t, s, u, "Accept-Encoding: "+enc)
	}
	for _, enc := range encs {
		if resp, _ := cacheGet(t, s, u, "Accept-Encoding: "+enc); !isHit(resp) {
			t.Fatalf("variant %s not stored", enc)
		}
	}
	if got := purge(t, s, u); got != 200 {
		t.Errorf("PURGE: got %d, want 200", got)
	}
	for _, enc := range encs {
		resp, got := cacheGet(t, s, u, "Accept-Encoding: "+enc)
		if isHit(resp) || got != "enc="+enc {
			t.Errorf("variant %s after PURGE: got %q X-Cache %q, want the origin's answer", enc, got, resp.Header.Get("X-Cache"))
		}
	}
	wantOrigin(t, o, 2*len(encs), "every variant fetched again after PURGE")
	if got := purge(t, s, u); got != 200 {
		t.Errorf("PURGE of the refetched variants: got %d, want 200", got)
	}
}
