package engine

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"edgeproxy/engine/config"
)

// RFC 9111 §3: a storable response to a GET is stored, and a second GET is
// answered from the cache with the same body, an Age field (§5.1) and the
// stored fields, without reaching the origin.
func TestRFC9111_3_StoreAndHit(t *testing.T) {
	body := strings.Repeat("cacheable ", 200)
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Content-Type", "text/x-stored")
		w.Header().Set("X-Origin", "yes")
		_, _ = io.WriteString(w, body)
	})
	s := startProxy(t, nil)
	u := o.URL + "/store"

	first, got := cacheGet(t, s, u)
	if first.StatusCode != 200 || got != body {
		t.Fatalf("first GET: got %d with %d bytes, want 200 with %d", first.StatusCode, len(got), len(body))
	}
	wantMiss(t, first, "first GET")
	if got, want := first.Header.Get("Cache-Status"), "edgeproxy-test; fwd=uri-miss; stored"; got != want {
		t.Errorf("first GET Cache-Status: got %q, want %q", got, want)
	}

	second, got := cacheGet(t, s, u)
	wantOrigin(t, o, 1, "after two GETs")
	if second.StatusCode != 200 || got != body {
		t.Fatalf("second GET: got %d with %d bytes, want 200 with the stored %d", second.StatusCode, len(got), len(body))
	}
	wantHit(t, second, "second GET")
	if age := ageOf(t, second); age > 2 {
		t.Errorf("Age: got %d, want 0 to 2", age)
	}
	wantTTL(t, second, 57, 60)
	for name, want := range map[string]string{"Content-Type": "text/x-stored", "X-Origin": "yes"} {
		if got := second.Header.Get(name); got != want {
			t.Errorf("stored %s: got %q, want %q", name, got, want)
		}
	}
	if second.ContentLength != int64(len(body)) {
		t.Errorf("Content-Length: got %d, want %d", second.ContentLength, len(body))
	}
}

// RFC 9111 §3: responses with no-store (§5.2.2.5) or private (§5.2.2.7),
// requests with no-store (§5.2.1.5), and responses to POST are not stored.
func TestRFC9111_3_NotStored(t *testing.T) {
	s := startProxy(t, nil)
	for _, tc := range []struct {
		name   string
		cc     string   // response Cache-Control
		fields []string // request fields
	}{
		{"response no-store", "no-store, max-age=60", nil},
		{"response private", "private, max-age=60", nil},
		{"response private qualified", `private="Set-Cookie", max-age=60`, nil},
		{"request no-store", "max-age=60", []string{"Cache-Control: no-store"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Cache-Control", tc.cc)
				_, _ = io.WriteString(w, "not for keeping")
			})
			u := o.URL + "/ns"
			for i := range 2 {
				resp, got := cacheGet(t, s, u, tc.fields...)
				if resp.StatusCode != 200 || got != "not for keeping" {
					t.Fatalf("GET %d: got %d %q", i+1, resp.StatusCode, got)
				}
				wantMiss(t, resp, "GET")
			}
			wantOrigin(t, o, 2, "two GETs")
		})
	}

	t.Run("POST response", func(t *testing.T) {
		o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Cache-Control", "max-age=60")
			_, _ = io.WriteString(w, "answer to "+r.Method)
		})
		u := o.URL + "/post"
		if resp, got := cacheDo(t, s, "POST", u, "a=1"); resp.StatusCode != 200 || got != "answer to POST" {
			t.Fatalf("POST: got %d %q", resp.StatusCode, got)
		}
		resp, got := cacheGet(t, s, u)
		if got != "answer to GET" || isHit(resp) {
			t.Errorf("GET after POST: got %q (X-Cache %q), want the origin's answer to GET", got, resp.Header.Get("X-Cache"))
		}
		wantOrigin(t, o, 2, "POST then GET")
	})
}

// RFC 9111 §3.5: a response to a request with Authorization is stored only
// when it carries public, s-maxage or must-revalidate.
func TestRFC9111_3_5_Authorization(t *testing.T) {
	s := startProxy(t, nil)
	for _, tc := range []struct {
		cc     string
		stored bool
	}{
		{"max-age=60", false},
		{"public, max-age=60", true},
		{"s-maxage=60", true},
		{"max-age=60, must-revalidate", true},
	} {
		t.Run(tc.cc, func(t *testing.T) {
			o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Cache-Control", tc.cc)
				_, _ = io.WriteString(w, "for "+r.Header.Get("Authorization"))
			})
			u := o.URL + "/auth"
			for range 2 {
				if resp, got := cacheGet(t, s, u, "Authorization: Bearer abc"); got != "for Bearer abc" {
					t.Fatalf("got %d %q", resp.StatusCode, got)
				}
			}
			want := 2
			if tc.stored {
				want = 1
			}
			wantOrigin(t, o, want, "two GETs with Authorization")
		})
	}
}

// RFC 9111 §3 and §3.3: a 206 answering a Range request for an object the
// cache does not hold reaches the client but is not stored as the object.
func TestRFC9111_3_PartialNotStored(t *testing.T) {
	full := "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("ETag", `"p1"`)
		if r.Header.Get("Range") == "bytes=0-9" {
			w.Header().Set("Content-Range", "bytes 0-9/62")
			w.WriteHeader(http.StatusPartialContent)
			_, _ = io.WriteString(w, full[:10])
			return
		}
		_, _ = io.WriteString(w, full)
	})
	s := startProxy(t, nil)
	u := o.URL + "/partial"

	resp, got := cacheGet(t, s, u, "Range: bytes=0-9")
	if resp.StatusCode != 206 || got != full[:10] || resp.Header.Get("Content-Range") != "bytes 0-9/62" {
		t.Fatalf("Range GET: got %d %q Content-Range %q, want 206 %q", resp.StatusCode, got, resp.Header.Get("Content-Range"), full[:10])
	}
	resp, got = cacheGet(t, s, u)
	if resp.StatusCode != 200 || got != full {
		t.Fatalf("plain GET: got %d %q, want 200 with the whole body", resp.StatusCode, got)
	}
	wantMiss(t, resp, "plain GET after a 206")
	wantOrigin(t, o, 2, "Range GET then plain GET")

	// The whole response was stored: the next GET is a hit.
	resp, got = cacheGet(t, s, u)
	if got != full {
		t.Errorf("third GET: got %q", got)
	}
	wantHit(t, resp, "third GET")
	wantOrigin(t, o, 2, "third GET")
}

// RFC 9110 §9.3.2, RFC 9111 §4: a HEAD is answered from a stored GET
// response: same fields and Content-Length, no body.
func TestRFC9111_4_HeadFromStoredGet(t *testing.T) {
	body := strings.Repeat("h", 5000)
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("ETag", `"head"`)
		_, _ = io.WriteString(w, body)
	})
	s := startProxy(t, nil)
	u := o.URL + "/head"
	rc := dialRaw(t, s)
	rc.send(cacheRequest("GET", u))
	if got := bodyOf(t, rc.response("GET")); got != body {
		t.Fatalf("GET: got %d bytes, want %d", len(got), len(body))
	}
	rc.send(cacheRequest("HEAD", u))
	resp := rc.response("HEAD")
	if resp.StatusCode != 200 {
		t.Fatalf("HEAD: got %d, want 200", resp.StatusCode)
	}
	wantHit(t, resp, "HEAD")
	if resp.ContentLength != int64(len(body)) {
		t.Errorf("HEAD Content-Length: got %d, want %d", resp.ContentLength, len(body))
	}
	if got := resp.Header.Get("ETag"); got != `"head"` {
		t.Errorf("HEAD ETag: got %q, want %q", got, `"head"`)
	}
	// No body bytes followed the HEAD answer: the next response on the
	// connection parses cleanly.
	rc.send(cacheRequest("GET", u))
	resp = rc.response("GET")
	if got := bodyOf(t, resp); resp.StatusCode != 200 || got != body {
		t.Errorf("GET after HEAD: got %d with %d bytes", resp.StatusCode, len(got))
	}
	wantOrigin(t, o, 1, "GET, HEAD, GET")
}

// cache.enabled: false sends every request to the origin.
func TestCacheDisabled(t *testing.T) {
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = io.WriteString(w, "always fetched")
	})
	s := startProxy(t, func(c *config.Config) { c.Cache.Enabled = new(false) })
	for i := range 3 {
		resp, got := cacheGet(t, s, o.URL+"/off")
		if got != "always fetched" || isHit(resp) {
			t.Errorf("GET %d: got %q X-Cache %q", i+1, got, resp.Header.Get("X-Cache"))
		}
	}
	wantOrigin(t, o, 3, "three GETs with the cache off")
	rc := dialRaw(t, s)
	rc.send(cacheRequest("PURGE", o.URL+"/off"))
	if resp := rc.response("PURGE"); resp.StatusCode != 404 {
		t.Errorf("PURGE with the cache off: got %d, want 404", resp.StatusCode)
	}
}
