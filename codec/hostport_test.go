package codec

import "testing"

// The Host of an intercepted request is split as the cache key splits it
// (issue 15).
func TestSplitHostPort(t *testing.T) {
	cases := []struct{ in, host, port string }{
		{"origin.test", "origin.test", ""},
		{"origin.test:8080", "origin.test", "8080"},
		{"198.51.100.2:80", "198.51.100.2", "80"},
		{"[2001:db8::1]", "[2001:db8::1]", ""},
		{"[2001:db8::1]:443", "[2001:db8::1]", "443"},
		{"", "", ""},
		{"[2001:db8::1", "[2001:db8::1", ""},
		{"origin.test:", "origin.test", ""},
	}
	for _, tc := range cases {
		h, p := SplitHostPort([]byte(tc.in))
		if string(h) != tc.host || string(p) != tc.port {
			t.Errorf("%q: got %q %q, want %q %q", tc.in, h, p, tc.host, tc.port)
		}
	}
}
