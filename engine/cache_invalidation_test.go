package engine

import (
	"io"
	"net/http"
	"strconv"
	"testing"
)

// pathOrigin answers GET with a cacheable body naming the path and the
// request number, and unsafe methods with the status and fields that
// unsafe returns for the path.
func pathOrigin(t *testing.T, unsafe func(w http.ResponseWriter, r *http.Request)) *countingOrigin {
	return startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.Method != "GET" {
			_, _ = io.Copy(io.Discard, r.Body)
			unsafe(w, r)
			return
		}
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = io.WriteString(w, r.URL.Path+" #"+strconv.Itoa(n))
	})
}

// wantCached GETs u and checks whether it was answered from the cache.
func wantCached(t *testing.T, s *Server, u string, cached bool, what string) {
	t.Helper()
	resp, got := cacheGet(t, s, u)
	if resp.StatusCode != 200 {
		t.Errorf("%s: GET got %d %q", what, resp.StatusCode, got)
	}
	if isHit(resp) != cached {
		t.Errorf("%s: X-Cache %q, want hit=%v", what, resp.Header.Get("X-Cache"), cached)
	}
}

// RFC 9111 §4.4: a non-error response to an unsafe method invalidates the
// stored response for the target URI.
func TestRFC9111_4_4_UnsafeMethodInvalidates(t *testing.T) {
	s := startProxy(t, nil)
	for _, tc := range []struct {
		method, body string
		status       int
	}{
		{"POST", "a=1", 200},
		{"POST", "a=1", 303},
		{"PUT", "new", 201},
		{"DELETE", "", 204},
		{"PATCH", "p", 200},
	} {
		t.Run(tc.method+" "+strconv.Itoa(tc.status), func(t *testing.T) {
			o := pathOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.status == 303 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tc.status)
			})
			u := o.URL + "/obj"
			cacheGet(t, s, u)
			wantCached(t, s, u, true, "before "+tc.method)
			resp, _ := cacheDo(t, s, tc.method, u, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("%s: got %d, want %d", tc.method, resp.StatusCode, tc.status)
			}
			wantCached(t, s, u, false, "after "+tc.method)
			wantOrigin(t, o, 3, "GET, "+tc.method+", GET")
		})
	}
}

// RFC 9111 §4.4: the same-origin URIs in Location and Content-Location of
// the response are invalidated too; a URI on another origin is not.
func TestRFC9111_4_4_LocationInvalidates(t *testing.T) {
	s := startProxy(t, nil)
	other := pathOrigin(t, nil)
	var o *countingOrigin
	o = pathOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/created")
		w.Header().Set("Content-Location", o.URL+"/described")
		w.Header().Add("Link", "</linked>; rel=related") // not an invalidating field
		w.WriteHeader(http.StatusCreated)
	})
	urls := map[string]string{
		"target":           o.URL + "/collection",
		"Location":         o.URL + "/created",
		"Content-Location": o.URL + "/described",
		"unrelated":        o.URL + "/linked",
	}
	for _, u := range urls {
		cacheGet(t, s, u)
	}
	cacheGet(t, s, other.URL+"/created")
	for name, u := range urls {
		wantCached(t, s, u, true, name+" before POST")
	}

	// A POST elsewhere whose Location names the other origin's URL must
	// not touch it (§4.4: only same-origin URIs).
	var third *countingOrigin
	third = pathOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", other.URL+"/created")
		w.WriteHeader(http.StatusCreated)
	})
	if resp, _ := cacheDo(t, s, "POST", third.URL+"/x", "b=2"); resp.StatusCode != 201 {
		t.Fatalf("cross-origin POST: got %d", resp.StatusCode)
	}
	wantCached(t, s, other.URL+"/created", true, "other origin's URL named by a cross-origin Location")

	if resp, _ := cacheDo(t, s, "POST", urls["target"], "a=1"); resp.StatusCode != 201 {
		t.Fatalf("POST: got %d, want 201", resp.StatusCode)
	}
	wantCached(t, s, urls["target"], false, "target after POST")
	wantCached(t, s, urls["Location"], false, "Location after POST")
	wantCached(t, s, urls["Content-Location"], false, "Content-Location after POST")
	wantCached(t, s, urls["unrelated"], true, "unrelated URL after POST")
	wantCached(t, s, other.URL+"/created", true, "same path on another origin after POST")
}

// RFC 9111 §4.4: an error response to an unsafe method invalidates
// nothing.
func TestRFC9111_4_4_FailedUnsafeKeeps(t *testing.T) {
	s := startProxy(t, nil)
	for _, status := range []int{500, 404, 403} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			o := pathOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", "/obj")
				w.WriteHeader(status)
			})
			u := o.URL + "/obj"
			cacheGet(t, s, u)
			if resp, _ := cacheDo(t, s, "POST", u, "a=1"); resp.StatusCode != status {
				t.Fatalf("POST: got %d, want %d", resp.StatusCode, status)
			}
			wantCached(t, s, u, true, "GET after a failed POST")
			wantOrigin(t, o, 2, "GET, POST, GET")
		})
	}
}
