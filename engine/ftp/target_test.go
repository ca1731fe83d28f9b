package ftp

import (
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		port, path, userinfo string
		want                 Target
		dirURL               string
	}{
		{"", "", "", Target{Port: 21, Type: 'i', Dir: true}, "ftp://h/"},
		{"", "/pub/a%20b.txt", "", Target{Port: 21, Path: "pub/a b.txt", Type: 'i'}, "ftp://h/pub/"},
		{"2121", "/pub/;type=d", "", Target{Port: 2121, Path: "pub/", Type: 'i', Dir: true}, "ftp://h:2121/pub/"},
		{"", "/pub/x;type=A", "", Target{Port: 21, Path: "pub/x", Type: 'a'}, "ftp://h/pub/"},
		{"", "/pub;type=d", "", Target{Port: 21, Path: "pub", Type: 'i', Dir: true}, "ftp://h/pub/"},
		{"", "/%2Fetc/motd", "", Target{Port: 21, Path: "/etc/motd", Type: 'i'}, "ftp://h/%2Fetc/"},
		{"", "/f", "bob:s%3Acret", Target{Port: 21, Path: "f", Type: 'i', User: "bob", Password: "s:cret", HasPassword: true}, "ftp://bob@h/"},
		{"", "/f", "bob", Target{Port: 21, Path: "f", Type: 'i', User: "bob"}, "ftp://bob@h/"},
	}
	for _, tt := range tests {
		t.Run(tt.path+"@"+tt.userinfo, func(t *testing.T) {
			got, err := ParseTarget([]byte("h"), []byte(tt.port), []byte(tt.path), []byte(tt.userinfo))
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Host, tt.want.base, tt.want.dir, tt.want.raw = "h", got.base, got.dir, got.raw
			if *got != tt.want {
				t.Fatalf("got %+v, want %+v", *got, tt.want)
			}
			if got.DirURL() != tt.dirURL {
				t.Fatalf("DirURL: got %q, want %q", got.DirURL(), tt.dirURL)
			}
		})
	}
}

// Issue 16: a decoded CR, LF or NUL would end the FTP command and smuggle
// another after it.
func TestParseTargetRefusesCommandInjection(t *testing.T) {
	for _, tt := range []struct{ path, userinfo string }{
		{"/a%0D%0ADELE%20b", ""},
		{"/a%0ab", ""},
		{"/a%00b", ""},
		{"/f", "bob%0D%0A:x"},
		{"/f", "bob:x%0AQUIT"},
		{"/a%zz", ""},
		{"/a%4", ""},
		{"/x;type=q", ""},
	} {
		t.Run(tt.path+tt.userinfo, func(t *testing.T) {
			if _, err := ParseTarget([]byte("h"), nil, []byte(tt.path), []byte(tt.userinfo)); err != ErrBadURL {
				t.Fatalf("got %v, want %v", err, ErrBadURL)
			}
		})
	}
}

func TestAppendListingEscapes(t *testing.T) {
	tg, err := ParseTarget([]byte("h"), nil, []byte("/pub/"), []byte("bob:secret"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(AppendListing(nil, tg, []Entry{
		{Name: `<script>alert(1)</script>`, Size: 3},
		{Name: `a "b" & c;type=d`, Size: 1},
		{Name: "sub", Dir: true},
	}))
	for _, want := range []string{
		`<a href="ftp://bob@h/pub/%3Cscript%3Ealert(1)%3C%2Fscript%3E">&lt;script&gt;alert(1)&lt;/script&gt;</a>`,
		`<a href="ftp://bob@h/pub/a%20%22b%22%20%26%20c%3Btype=d">a &#34;b&#34; &amp; c;type=d</a>`,
		`<a href="ftp://bob@h/pub/sub/">sub/</a>`,
		`<a href="ftp://bob@h/">Parent directory</a>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("listing lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "secret") {
		t.Errorf("listing holds a raw name or the password:\n%s", page)
	}
	if strings.Index(page, "sub/") > strings.Index(page, "script") {
		t.Errorf("directories are not listed first:\n%s", page)
	}
}

// A user name holding ':' or '@' stays one user name in the URLs made from
// it, and never looks like a password.
func TestUserEscapedInURLs(t *testing.T) {
	tg, err := ParseTarget([]byte("h"), nil, []byte("/f"), []byte("a%3Ab%40c:pw"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tg.LogURL(), "ftp://a%3Ab%40c@h/f"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
