package cache

import "testing"

// Issue 16: ftp:// and gopher:// keys elide their own default ports (21, 70),
// not http's 80, and leave the FTP userinfo out.
func TestAppendKeySchemes(t *testing.T) {
	tests := []struct{ url, want string }{
		{"ftp://example.com:21/pub/a", "ftp://example.com/pub/a"},
		{"ftp://example.com:80/pub/a", "ftp://example.com:80/pub/a"},
		{"gopher://example.com:70/1/", "gopher://example.com/1/"},
		{"gopher://example.com:80/1/", "gopher://example.com:80/1/"},
		{"gopher://example.com", "gopher://example.com/"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if got := string(AppendKey(nil, newReq("GET", tt.url))); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
