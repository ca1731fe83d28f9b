package engine

import (
	"testing"

	"edgeproxy/codec"
)

// Issue 16: ftp:// and gopher:// URLs without a port reach 21 and 70, and
// the destination rules and acl.safe_ports see those ports.
func TestDestPortOfSchemes(t *testing.T) {
	for _, tt := range []struct {
		target string
		want   int
	}{
		{"ftp://h/f", 21},
		{"FTP://u:p@h/f", 21},
		{"ftp://h:2121/f", 2121},
		{"gopher://h/1/", 70},
		{"gopher://h:7070/1/", 7070},
		{"http://h/", 80},
		{"https://h/", 443},
	} {
		var r codec.Request
		r.Reset()
		var p codec.Parser
		if _, err := p.Parse([]byte("GET "+tt.target+" HTTP/1.1\r\nHost: h\r\n\r\n"), &r, nil); err != nil {
			t.Fatalf("%s: %v", tt.target, err)
		}
		if got := destPort(&r); got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.target, got, tt.want)
		}
	}
}
