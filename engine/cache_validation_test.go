package engine

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// RFC 9111 §4.3.1 and §4.3.4: a stale entry with an ETag is validated with
// If-None-Match; a 304 updates the stored fields it carries, and the client
// gets a 200 with the stored body and the updated fields, which the
// following hits keep.
func TestRFC9111_4_3_1_RevalidateWithETag(t *testing.T) {
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("ETag", `"v1"`)
		if n > 1 && r.Header.Get("If-None-Match") == `"v1"` {
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("X-Version", "2")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		staleFields(w.Header(), "")
		w.Header().Set("X-Version", "1")
		_, _ = io.WriteString(w, "body of v1")
	})
	s := startProxy(t, nil)
	u := o.URL + "/etag"
	cacheGet(t, s, u)

	resp, got := cacheGet(t, s, u)
	wantOrigin(t, o, 2, "GET of a stale entry")
	if inm := o.request(2).header.Get("If-None-Match"); inm != `"v1"` {
		t.Errorf("origin If-None-Match: got %q, want %q", inm, `"v1"`)
	}
	if resp.StatusCode != 200 || got != "body of v1" {
		t.Fatalf("revalidated: got %d %q, want 200 %q", resp.StatusCode, got, "body of v1")
	}
	if v := resp.Header.Get("X-Version"); v != "2" {
		t.Errorf("revalidated X-Version: got %q, want %q (from the 304)", v, "2")
	}
	if resp.ContentLength != int64(len("body of v1")) {
		t.Errorf("revalidated Content-Length: got %d, want %d", resp.ContentLength, len("body of v1"))
	}

	resp, got = cacheGet(t, s, u)
	wantOrigin(t, o, 2, "GET after the 304 refreshed the entry")
	wantHit(t, resp, "GET after the 304")
	if got != "body of v1" || resp.Header.Get("X-Version") != "2" {
		t.Errorf("hit after 304: got %q X-Version %q, want %q X-Version 2", got, resp.Header.Get("X-Version"), "body of v1")
	}
	wantTTL(t, resp, 57, 60)
}

// RFC 9111 §4.3.1: a stale entry with only Last-Modified is validated with
// If-Modified-Since carrying that date.
func TestRFC9111_4_3_1_RevalidateWithLastModified(t *testing.T) {
	lm := httpDate(time.Now().Add(-time.Hour))
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Last-Modified", lm)
		if n > 1 && r.Header.Get("If-Modified-Since") == lm {
			w.Header().Set("Cache-Control", "max-age=60")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		staleFields(w.Header(), "")
		_, _ = io.WriteString(w, "dated body")
	})
	s := startProxy(t, nil)
	u := o.URL + "/lm"
	cacheGet(t, s, u)
	resp, got := cacheGet(t, s, u)
	wantOrigin(t, o, 2, "GET of a stale entry")
	seen := o.request(2).header
	if ims := seen.Get("If-Modified-Since"); ims != lm {
		t.Errorf("origin If-Modified-Since: got %q, want %q", ims, lm)
	}
	if inm := seen.Get("If-None-Match"); inm != "" {
		t.Errorf("origin If-None-Match: got %q, want none (no ETag stored)", inm)
	}
	if resp.StatusCode != 200 || got != "dated body" {
		t.Errorf("revalidated: got %d %q, want 200 %q", resp.StatusCode, got, "dated body")
	}
	if resp, _ := cacheGet(t, s, u); !isHit(resp) {
		t.Errorf("GET after the 304: X-Cache %q, want a HIT", resp.Header.Get("X-Cache"))
	}
	wantOrigin(t, o, 2, "GET after the 304")
}

// RFC 9111 §4.3.3: a full 200 answering the validation replaces the stored
// response.
func TestRFC9111_4_3_3_ChangedResponseReplaces(t *testing.T) {
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			w.Header().Set("ETag", `"old"`)
			staleFields(w.Header(), "")
			_, _ = io.WriteString(w, "old body")
			return
		}
		w.Header().Set("ETag", `"new"`)
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = io.WriteString(w, "new body, longer")
	})
	s := startProxy(t, nil)
	u := o.URL + "/changed"
	cacheGet(t, s, u)
	if _, got := cacheGet(t, s, u); got != "new body, longer" {
		t.Errorf("revalidated: got %q, want the new body", got)
	}
	resp, got := cacheGet(t, s, u)
	if got != "new body, longer" || resp.Header.Get("ETag") != `"new"` {
		t.Errorf("next GET: got %q ETag %q, want the new response", got, resp.Header.Get("ETag"))
	}
	wantHit(t, resp, "next GET")
	wantOrigin(t, o, 2, "")
}

// RFC 9111 §4.3.4: freshening with a 304 replaces only the fields the 304
// carries. A 304 has no Content-Type (net/http strips it, RFC 9110 §15.4.5),
// so the stored Content-Type must survive the update.
func TestRFC9111_4_3_4_FreshenKeepsOtherFields(t *testing.T) {
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("ETag", `"ct"`)
		if n > 1 && r.Header.Get("If-None-Match") == `"ct"` {
			w.Header().Set("Cache-Control", "max-age=60")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		staleFields(w.Header(), "")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Kept", "kept")
		_, _ = io.WriteString(w, `{"a":1}`)
	})
	s := startProxy(t, nil)
	u := o.URL + "/ct"
	cacheGet(t, s, u)
	for _, what := range []string{"revalidated answer", "hit after the 304"} {
		resp, got := cacheGet(t, s, u)
		if got != `{"a":1}` {
			t.Fatalf("%s: body %q", what, got)
		}
		if ct := resp.Header.Values("Content-Type"); len(ct) != 1 || ct[0] != "application/json" {
			t.Errorf("%s: Content-Type %q, want [application/json]", what, ct)
		}
		if v := resp.Header.Get("X-Kept"); v != "kept" {
			t.Errorf("%s: X-Kept %q, want %q", what, v, "kept")
		}
	}
	wantOrigin(t, o, 2, "")
}

// RFC 9110 §15.4.5: a proxy relays a response without Content-Type as it
// is; it does not invent one.
func TestCacheMissKeepsMissingContentType(t *testing.T) {
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header()["Content-Type"] = nil // net/http would sniff one otherwise
		_, _ = io.WriteString(w, "untyped")
	})
	s := startProxy(t, nil)
	for _, what := range []string{"miss", "hit"} {
		resp, got := cacheGet(t, s, o.URL+"/untyped")
		if got != "untyped" {
			t.Fatalf("%s: body %q", what, got)
		}
		if ct := resp.Header.Values("Content-Type"); len(ct) != 0 {
			t.Errorf("%s: Content-Type %q, want none (the origin sent none)", what, ct)
		}
	}
}

// RFC 9111 §4.3.2, RFC 9110 §13.2.2: a client's conditional GET is answered
// from a fresh entry: 304 without a body when it matches, the stored 200
// otherwise, and the origin is not contacted.
func TestRFC9111_4_3_2_ClientConditionals(t *testing.T) {
	lmTime := time.Now().Add(-time.Hour)
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("ETag", `"c1"`)
		w.Header().Set("Last-Modified", httpDate(lmTime))
		_, _ = io.WriteString(w, "conditional body")
	})
	s := startProxy(t, nil)
	u := o.URL + "/cond"
	cacheGet(t, s, u)
	for _, tc := range []struct {
		name   string
		field  string
		status int
	}{
		{"If-None-Match matching", `If-None-Match: "c1"`, 304},
		{"If-None-Match in a list", `If-None-Match: "x", "c1"`, 304},
		{"If-None-Match weak", `If-None-Match: W/"c1"`, 304},
		{"If-None-Match star", `If-None-Match: *`, 304},
		{"If-None-Match other", `If-None-Match: "c2"`, 200},
		{"If-Modified-Since later", "If-Modified-Since: " + httpDate(lmTime.Add(30*time.Minute)), 304},
		{"If-Modified-Since equal", "If-Modified-Since: " + httpDate(lmTime), 304},
		{"If-Modified-Since earlier", "If-Modified-Since: " + httpDate(lmTime.Add(-time.Minute)), 200},
		{"If-None-Match wins over If-Modified-Since", `If-None-Match: "c2"` + "\r\nIf-Modified-Since: " + httpDate(lmTime), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := dialRaw(t, s)
			rc.send(cacheRequest("GET", u, tc.field))
			resp := rc.response("GET")
			got := bodyOf(t, resp)
			if resp.StatusCode != tc.status {
				t.Fatalf("status: got %d, want %d", resp.StatusCode, tc.status)
			}
			wantHit(t, resp, "answer")
			switch tc.status {
			case 304:
				if got != "" {
					t.Errorf("304 body: got %q, want none", got)
				}
				if et := resp.Header.Get("ETag"); et != `"c1"` {
					t.Errorf("304 ETag: got %q, want %q", et, `"c1"`)
				}
				// The connection is still in step: no body followed.
				rc.send(cacheRequest("GET", u))
				if next := rc.response("GET"); bodyOf(t, next) != "conditional body" {
					t.Error("the request after the 304 was not answered cleanly")
				}
			case 200:
				if got != "conditional body" {
					t.Errorf("body: got %q", got)
				}
			}
			wantOrigin(t, o, 1, "")
		})
	}
}

// RFC 9211 §2: a cache adds one Cache-Status member per response. A
// response validated with the origin (304) was forwarded: its member says
// fwd=stale and not hit.
func TestRFC9211_CacheStatusAfterRevalidation(t *testing.T) {
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("ETag", `"cs"`)
		if n > 1 {
			w.Header().Set("Cache-Control", "max-age=60")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		staleFields(w.Header(), "")
		_, _ = io.WriteString(w, "status")
	})
	s := startProxy(t, nil)
	u := o.URL + "/cs"
	cacheGet(t, s, u)
	resp, _ := cacheGet(t, s, u)
	members := strings.Join(resp.Header.Values("Cache-Status"), ", ")
	if strings.Count(members, "edgeproxy-test") != 1 {
		t.Errorf("Cache-Status: got %q, want one member for this cache", members)
	}
	if !strings.Contains(members, "fwd=stale") || strings.Contains(members, "; hit") {
		t.Errorf("Cache-Status: got %q, want fwd=stale and no hit", members)
	}
}
