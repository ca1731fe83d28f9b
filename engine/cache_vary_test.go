package engine

import (
	"io"
	"net/http"
	"testing"
)

// varyOrigin answers with a body naming the request's Accept-Encoding and
// varies on it.
func varyOrigin(t *testing.T, vary string) *countingOrigin {
	return startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", vary)
		_, _ = io.WriteString(w, "enc="+r.Header.Get("Accept-Encoding"))
	})
}

// RFC 9111 §4.1: responses that vary on Accept-Encoding are stored side by
// side, and each request is answered by the variant its own field selects.
func TestRFC9111_4_1_VaryVariants(t *testing.T) {
	o := varyOrigin(t, "Accept-Encoding")
	s := startProxy(t, nil)
	u := o.URL + "/vary"
	for i, enc := range []string{"gzip", "identity", "gzip", "identity"} {
		resp, got := cacheGet(t, s, u, "Accept-Encoding: "+enc)
		if want := "enc=" + enc; got != want {
			t.Errorf("GET %d (%s): got %q, want %q", i+1, enc, got, want)
		}
		if i >= 2 {
			wantHit(t, resp, "GET of a stored variant")
		}
	}
	wantOrigin(t, o, 2, "four GETs alternating two encodings")

	// A request without the field selects neither stored variant.
	if _, got := cacheGet(t, s, u); got != "enc=" {
		t.Errorf("GET without Accept-Encoding: got %q, want %q", got, "enc=")
	}
	wantOrigin(t, o, 3, "GET without Accept-Encoding")
	if resp, got := cacheGet(t, s, u); got != "enc=" || !isHit(resp) {
		t.Errorf("second GET without Accept-Encoding: got %q X-Cache %q, want a hit", got, resp.Header.Get("X-Cache"))
	}
	wantOrigin(t, o, 3, "")
}

// RFC 9111 §4.1: a response with Vary: * never answers a later request.
func TestRFC9111_4_1_VaryStar(t *testing.T) {
	o := varyOrigin(t, "*")
	s := startProxy(t, nil)
	for i := range 3 {
		resp, got := cacheGet(t, s, o.URL+"/star", "Accept-Encoding: gzip")
		if got != "enc=gzip" || isHit(resp) {
			t.Errorf("GET %d: got %q X-Cache %q, want the origin's answer", i+1, got, resp.Header.Get("X-Cache"))
		}
	}
	wantOrigin(t, o, 3, "three GETs of a Vary: * response")
}
