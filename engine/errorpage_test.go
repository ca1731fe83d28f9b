package engine

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"edgeproxy/codec"
	"edgeproxy/engine/origin"
)

// Issue 13: an HTML error page goes to clients whose Accept lists
// text/html with a non-zero weight.
func TestAcceptsHTML(t *testing.T) {
	tests := []struct {
		accept string
		want   bool
	}{
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
		{"TEXT/HTML", true},
		{"application/json, text/html ; q=0.5", true},
		{"*/*", false},
		{"", false},
		{"text/*", false},
		{"text/html;q=0", false},
		{"text/html; q=0.000", false},
		{"text/htmlx", false},
	}
	for _, tt := range tests {
		if got := acceptsHTML([]byte(tt.accept)); got != tt.want {
			t.Errorf("acceptsHTML(%q): got %v, want %v", tt.accept, got, tt.want)
		}
	}
}

// Issue 12: the origin package's errors get the pages their fasthttp
// counterparts had. An origin that closes the connection without a
// response is Squid's ERR_ZERO_SIZE_OBJECT, not a generic read error, and
// a loop at its origin-connection cap says the proxy is busy.
func TestOriginErrorPages(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		want   string
	}{
		{origin.ErrClosed, 502, "ERR_ZERO_SIZE_OBJECT"},
		{fmt.Errorf("fill: %w", origin.ErrClosed), 502, "ERR_ZERO_SIZE_OBJECT"},
		{origin.ErrTooManyConns, 503, "ERR_CANNOT_FORWARD"},
		{origin.ErrHeadTimeout, 504, "ERR_READ_TIMEOUT"},
		{errors.Join(origin.ErrMalformed, codec.ErrLengthAndChunked), 502, "ERR_READ_ERROR"},
	} {
		status, _ := statusFor(tc.err)
		if status != tc.status {
			t.Errorf("%v: status got %d, want %d", tc.err, status, tc.status)
		}
		if name, _, _ := pageFor(tc.err, status); name != tc.want {
			t.Errorf("%v: page got %q, want %q", tc.err, name, tc.want)
		}
	}
}

// Issue 12: the same through the proxy: an HTML client whose origin
// accepts the request and closes without a byte of response gets the
// ERR_ZERO_SIZE_OBJECT page with a 502.
func TestOriginClosedWithoutResponsePage(t *testing.T) {
	s := startProxy(t, oneLoop)
	o := startScriptOrigin(t, func(c *scriptConn) { c.read() })
	resp, body, err := rawGet(s.Addr(), "http://"+o.addr+"/silent", "Accept: text/html")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 502 {
		t.Errorf("status got %d, want 502", resp.StatusCode)
	}
	if !strings.Contains(string(body), "ERR_ZERO_SIZE_OBJECT") {
		t.Errorf("page does not name ERR_ZERO_SIZE_OBJECT:\n%s", body)
	}
}
