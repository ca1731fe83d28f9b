package engine

import (
	"net/http"
	"strconv"
	"testing"
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
