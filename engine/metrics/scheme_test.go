package metrics

import (
	"bytes"
	"strings"
	"testing"
)

// Issue 16: ftp:// and gopher:// requests are counted by scheme; the rest
// count as http.
func TestSchemeRequests(t *testing.T) {
	r := New()
	for _, s := range []string{"", "http", "https", "ftp", "ftp", "gopher"} {
		r.Record(&Outcome{Method: "GET", Status: 200, Result: "TCP_MISS", Scheme: s})
	}
	var b bytes.Buffer
	if err := r.WritePrometheus(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`edgeproxy_scheme_requests_total{scheme="http"} 3`,
		`edgeproxy_scheme_requests_total{scheme="ftp"} 2`,
		`edgeproxy_scheme_requests_total{scheme="gopher"} 1`,
	} {
		if !strings.Contains(b.String(), want+"\n") {
			t.Errorf("got no %q in\n%s", want, b.String())
		}
	}
}

func TestSchemeRequestsJSON(t *testing.T) {
	r := New()
	r.Record(&Outcome{Method: "GET", Status: 200, Scheme: "gopher"})
	var b bytes.Buffer
	if err := r.WriteJSON(&b, nil); err != nil {
		t.Fatal(err)
	}
	if want := `"requests_by_scheme":{"ftp":0,"gopher":1,"http":0}`; !strings.Contains(b.String(), want) {
		t.Fatalf("got %s, want %s in it", b.String(), want)
	}
}
