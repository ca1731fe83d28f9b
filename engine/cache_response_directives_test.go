package engine

import (
	"crypto/sha256"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// RFC 9111 §5.2.2.4: a no-cache response is stored, but every use is
// validated with the origin first.
func TestRFC9111_5_2_2_4_NoCacheResponse(t *testing.T) {
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("ETag", `"nc"`)
		if r.Header.Get("If-None-Match") == `"nc"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = io.WriteString(w, "validate me")
	})
	s := startProxy(t, nil)
	u := o.URL + "/nc"
	cacheGet(t, s, u)
	for i := 2; i <= 3; i++ {
		resp, got := cacheGet(t, s, u)
		wantOrigin(t, o, i, "GET of a no-cache response")
		if inm := o.request(i).header.Get("If-None-Match"); inm != `"nc"` {
			t.Errorf("request %d If-None-Match: got %q, want %q (the stored validator)", i, inm, `"nc"`)
		}
		if resp.StatusCode != 200 || got != "validate me" {
			t.Errorf("request %d: got %d %q, want 200 with the stored body", i, resp.StatusCode, got)
		}
	}
}

// RFC 9111 §4.2.4, §5.2.2.2, §5.2.2.8, §5.2.2.10: a stale response with
// must-revalidate, proxy-revalidate or s-maxage is never served without
// validation, even to a request that accepts stale responses.
func TestRFC9111_5_2_2_2_MustRevalidate(t *testing.T) {
	s := startProxy(t, nil)
	for _, tc := range []struct {
		cc         string
		validated  bool
		wantOrigin int
	}{
		{"max-age=10, must-revalidate", true, 2},
		{"max-age=10, proxy-revalidate", true, 2},
		{"s-maxage=10", true, 2},
		{"max-age=10", false, 1}, // control: max-stale is honoured
	} {
		t.Run(tc.cc, func(t *testing.T) {
			o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Cache-Control", tc.cc)
				w.Header().Set("Age", "20")
				_, _ = io.WriteString(w, "body "+strconv.Itoa(n))
			})
			u := o.URL + "/mr"
			cacheGet(t, s, u)
			resp, got := cacheGet(t, s, u, "Cache-Control: max-stale=3600")
			wantOrigin(t, o, tc.wantOrigin, "GET with max-stale of a stale entry")
			if tc.validated {
				if got != "body 2" || isHit(resp) {
					t.Errorf("got %q X-Cache %q, want the origin's new body", got, resp.Header.Get("X-Cache"))
				}
			} else if got != "body 1" {
				t.Errorf("got %q, want the stale stored body", got)
			}
		})
	}
}

// RFC 5861 §3: within stale-while-revalidate, a stale entry is served at
// once and refreshed in the background. The origin holds the refresh until
// the client has its stale answer, so a synchronous fetch would time out.
func TestRFC5861_3_StaleWhileRevalidate(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n > 1 {
			<-release
			// Fresh for long enough that the checks below cause no
			// second refresh.
			w.Header().Set("Cache-Control", "max-age=60, stale-while-revalidate=30")
		} else {
			w.Header().Set("Cache-Control", "max-age=1, stale-while-revalidate=30")
		}
		_, _ = io.WriteString(w, "version "+strconv.Itoa(n))
	})
	s := startProxy(t, nil)
	// Runs before the proxy's shutdown, which waits for the refresh.
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	u := o.URL + "/swr"
	cacheGet(t, s, u)
	time.Sleep(2100 * time.Millisecond) // max-age=1 has passed, whatever the clock's second

	rc := dialRaw(t, s)
	_ = rc.c.SetDeadline(time.Now().Add(5 * time.Second))
	rc.send(cacheRequest("GET", u))
	resp := rc.response("GET")
	if got := bodyOf(t, resp); got != "version 1" {
		t.Errorf("stale answer: got %q, want %q", got, "version 1")
	}
	wantHit(t, resp, "stale answer")
	if !eventually(3*time.Second, func() bool { return o.count() == 2 }) {
		t.Fatalf("origin requests: got %d, want 2 (one background refresh)", o.count())
	}
	once.Do(func() { close(release) })
	var got string
	if !eventually(3*time.Second, func() bool {
		resp, got = cacheGet(t, s, u)
		return got == "version 2" && isHit(resp)
	}) {
		t.Errorf("after the refresh: got %q X-Cache %q, want %q from the cache", got, resp.Header.Get("X-Cache"), "version 2")
	}
	wantOrigin(t, o, 2, "")
}

// RFC 5861 §3 for a tier-L object (a body too large for a freecache entry):
// the stale answer must also start a background refresh.
func TestRFC5861_3_StaleWhileRevalidateLarge(t *testing.T) {
	body := patternBody(400<<10, 3)
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Cache-Control", "max-age=1, stale-while-revalidate=30")
		w.Header().Set("Age", "5") // stale on arrival, within stale-while-revalidate
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	s := startProxy(t, nil)
	u := o.URL + "/swr-large"
	cacheGet(t, s, u)
	resp, got := cacheGet(t, s, u)
	wantHit(t, resp, "stale answer")
	if sha256.Sum256([]byte(got)) != sha256.Sum256(body) {
		t.Errorf("stale answer: %d bytes differ from the stored %d", len(got), len(body))
	}
	if !eventually(3*time.Second, func() bool { return o.count() >= 2 }) {
		t.Errorf("origin requests: got %d, want 2: a stale-while-revalidate hit on a tier-L object started no background refresh", o.count())
	}
}

// RFC 5861 §4: within stale-if-error, a stale entry stands in for an origin
// error (a 5xx status, or no answer at all). Without it the error passes.
func TestRFC5861_4_StaleIfError(t *testing.T) {
	s := startProxy(t, nil)
	for _, tc := range []struct {
		name   string
		extra  string   // added to the response Cache-Control
		fields []string // request fields
		fail   func(w http.ResponseWriter, o *countingOrigin)
		status int
	}{
		{"origin 500", "stale-if-error=60", nil, answer500, 200},
		{"origin 503", "stale-if-error=60", nil, func(w http.ResponseWriter, _ *countingOrigin) { w.WriteHeader(503) }, 200},
		{"origin stopped", "stale-if-error=60", nil, nil, 200},
		{"request stale-if-error", "", []string{"Cache-Control: stale-if-error=60"}, answer500, 200},
		{"stale-if-error exceeded", "stale-if-error=5", nil, answer500, 500},
		{"no stale-if-error", "", nil, answer500, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o *countingOrigin
			o = startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n > 1 {
					tc.fail(w, o)
					return
				}
				staleFields(w.Header(), tc.extra)
				_, _ = io.WriteString(w, "last good")
			})
			u := o.URL + "/sie"
			cacheGet(t, s, u)
			if tc.fail == nil {
				o.stop()
			}
			resp, got := cacheGet(t, s, u, tc.fields...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status: got %d %q, want %d", resp.StatusCode, got, tc.status)
			}
			if tc.status == 200 && got != "last good" {
				t.Errorf("body: got %q, want the stale %q", got, "last good")
			}
		})
	}
}

func answer500(w http.ResponseWriter, _ *countingOrigin) {
	w.WriteHeader(500)
	_, _ = io.WriteString(w, "origin broke")
}
