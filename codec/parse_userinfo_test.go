package codec

import "testing"

// Issue 16: an ftp:// target may carry user[:password]@ (RFC 1738 §3.1);
// every other scheme's userinfo stays refused.
func TestParseFTPUserinfo(t *testing.T) {
	tests := []struct {
		target         string
		err            error
		user, host, pt string
	}{
		{"ftp://bob:s%40cret@example.com:2121/f", nil, "bob:s%40cret", "example.com", "2121"},
		{"ftp://anonymous@example.com/", nil, "anonymous", "example.com", ""},
		{"FTP://a:b@c@example.com/", ErrTarget, "", "", ""}, // a raw @ inside the userinfo
		{"ftp://example.com/a@b", nil, "", "example.com", ""},
		{"ftp://@example.com/", nil, "", "example.com", ""},
		{"ftp://bob@/", ErrTarget, "", "", ""},
		{"ftp://b\"ob@example.com/", ErrTarget, "", "", ""},
		{"http://bob@example.com/", ErrTarget, "", "", ""},
		{"gopher://bob@example.com/", ErrTarget, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			var r Request
			r.Reset()
			var p Parser
			_, err := p.Parse([]byte("GET "+tt.target+" HTTP/1.1\r\nHost: example.com\r\n\r\n"), &r, nil)
			if err != tt.err {
				t.Fatalf("err: got %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if string(r.Userinfo) != tt.user || string(r.Host) != tt.host || string(r.Port) != tt.pt {
				t.Fatalf("got %q %q %q, want %q %q %q", r.Userinfo, r.Host, r.Port, tt.user, tt.host, tt.pt)
			}
		})
	}
}
