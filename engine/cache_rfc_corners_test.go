package engine

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Issue 11, RFC 9111 §4.4: a non-error response to a method whose safety is
// unknown invalidates the target URI too, and the same-origin Location; only
// the methods known to be safe (RFC 9110 §9.2.1 and the IANA method
// registry) leave it stored.
func TestRFC9111_4_4_UnknownMethodInvalidates(t *testing.T) {
	s := startProxy(t, nil)
	for _, tc := range []struct {
		method     string
		status     int
		invalidate bool
	}{
		{"M-SEARCH", 200, true},
		{"PROPPATCH", 207, true},
		{"MKCOL", 201, true},
		{"FOO", 204, true},
		{"LOCK", 302, true},
		{"FOO", 404, false}, // an error status invalidates nothing
		{"OPTIONS", 200, false},
		{"TRACE", 200, false},
		{"PROPFIND", 207, false},
		{"REPORT", 200, false},
		{"SEARCH", 200, false},
		{"QUERY", 200, false},
	} {
		t.Run(tc.method+" "+strconv.Itoa(tc.status), func(t *testing.T) {
			o := pathOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", "/moved")
				w.WriteHeader(tc.status)
			})
			u := o.URL + "/obj"
			for _, p := range []string{u, o.URL + "/moved"} {
				cacheGet(t, s, p)
				wantCached(t, s, p, true, "before "+tc.method)
			}
			resp, _ := cacheDo(t, s, tc.method, u, "")
			if resp.StatusCode != tc.status {
				t.Fatalf("%s: got %d, want %d", tc.method, resp.StatusCode, tc.status)
			}
			wantCached(t, s, u, !tc.invalidate, "target after "+tc.method)
			wantCached(t, s, o.URL+"/moved", !tc.invalidate, "Location after "+tc.method)
		})
	}
}

// Issue 11, RFC 9111 §5.1: a list-valued Age (a singleton field sent as a
// list, or repeated) counts with its first member; a first member that is
// not delta-seconds makes the field ignored. An Age of 7200 on a response
// fresh for an hour makes it stale at once.
func TestRFC9111_5_1_AgeListUsesFirstMember(t *testing.T) {
	s := startProxy(t, nil)
	for _, tc := range []struct {
		name string
		ages []string // Age field lines
		hit  bool
	}{
		{"single", []string{"7200"}, false},
		{"list, first member old", []string{"7200, 0"}, false},
		{"list without spaces", []string{"7200,0"}, false},
		{"two lines, first old", []string{"7200", "0"}, false},
		{"list, first member young", []string{"0, 7200"}, true},
		{"first member invalid", []string{"old, 7200"}, true},
		{"first line invalid", []string{"old", "7200"}, true},
		{"none", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Cache-Control", "max-age=3600")
				w.Header()["Age"] = tc.ages
				_, _ = io.WriteString(w, "aged")
			})
			u := o.URL + "/a"
			cacheGet(t, s, u)
			resp, got := cacheGet(t, s, u)
			if got != "aged" {
				t.Fatalf("second GET: got %q, want %q", got, "aged")
			}
			if isHit(resp) != tc.hit {
				t.Errorf("second GET: X-Cache %q, want hit=%v", resp.Header.Get("X-Cache"), tc.hit)
			}
		})
	}
}

// Issue 11, RFC 9211 §2.4: when the stored response is fresh but the
// request's directives forbid its use (a reload: max-age=0, no-cache,
// Pragma: no-cache, an unmet min-fresh), the forwarded answer says
// fwd=request; fwd=stale is for a stored response that was stale.
func TestRFC9211_FwdRequestOnReload(t *testing.T) {
	s := startProxy(t, nil)
	for _, tc := range []struct {
		name     string
		stale    bool   // the stored response is already stale
		validate bool   // the origin answers the revalidation 304
		field    string // the reload's request field
		want     string // the Cache-Status parameters after the name
	}{
		{"max-age=0, 304", false, true, "Cache-Control: max-age=0", "fwd=request; fwd-status=304"},
		{"no-cache, 304", false, true, "Cache-Control: no-cache", "fwd=request; fwd-status=304"},
		{"pragma no-cache, 304", false, true, "Pragma: no-cache", "fwd=request; fwd-status=304"},
		{"min-fresh, 304", false, true, "Cache-Control: min-fresh=7200", "fwd=request; fwd-status=304"},
		{"max-age=0, new body", false, false, "Cache-Control: max-age=0", "fwd=request; stored"},
		{"no-cache, new body", false, false, "Cache-Control: no-cache", "fwd=request; stored"},
		{"stale, max-age=0", true, true, "Cache-Control: max-age=0", "fwd=stale; fwd-status=304"},
		{"stale, no-cache", true, false, "Cache-Control: no-cache", "fwd=stale; stored"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := "max-age=3600"
			if tc.stale {
				cc = "max-age=0"
			}
			o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Cache-Control", cc)
				w.Header().Set("ETag", `"r"`)
				if n > 1 && tc.validate && r.Header.Get("If-None-Match") == `"r"` {
					w.WriteHeader(http.StatusNotModified)
					return
				}
				_, _ = io.WriteString(w, "reload #"+strconv.Itoa(n))
			})
			u := o.URL + "/reload"
			cacheGet(t, s, u)
			resp, got := cacheGet(t, s, u, tc.field)
			if !strings.HasPrefix(got, "reload #") {
				t.Fatalf("reload: got %q", got)
			}
			wantOrigin(t, o, 2, "GET, reload")
			// A served stored response ends with its ttl.
			got, _, _ = strings.Cut(resp.Header.Get("Cache-Status"), "; ttl=")
			if want := "edgeproxy-test; " + tc.want; got != want {
				t.Errorf("Cache-Status: got %q, want %q", got, want)
			}
		})
	}
}

// Issue 11: the answer to a client's If-Modified-Since does not depend on
// the weekday or month in the date's text. Each of the last seven days has
// its own URL whose Last-Modified falls on that day (each at the time of
// day the test runs), whatever today is.
func TestRFC9110_13_1_3_IfModifiedSinceEveryWeekday(t *testing.T) {
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Last-Modified", r.URL.Query().Get("lm"))
		_, _ = io.WriteString(w, "dated")
	})
	s := startProxy(t, nil)
	for d := 0; d < 7; d++ {
		day := time.Now().Add(-time.Duration(d+1) * 24 * time.Hour).Truncate(time.Second)
		t.Run(day.Weekday().String(), func(t *testing.T) {
			u := o.URL + "/ims?lm=" + url.QueryEscape(httpDate(day))
			if _, got := cacheGet(t, s, u); got != "dated" {
				t.Fatalf("GET: got %q, want %q", got, "dated")
			}
			for _, tc := range []struct {
				name   string
				since  time.Time
				status int
			}{
				{"equal", day, 304},
				{"later", day.Add(30 * time.Minute), 304},
				{"earlier", day.Add(-time.Minute), 200},
			} {
				resp, _ := cacheGet(t, s, u, "If-Modified-Since: "+httpDate(tc.since))
				if resp.StatusCode != tc.status {
					t.Errorf("If-Modified-Since %s: got %d, want %d", tc.name, resp.StatusCode, tc.status)
				}
				wantHit(t, resp, "If-Modified-Since "+tc.name)
			}
		})
	}
	wantOrigin(t, o, 7, "one GET per day")
}
