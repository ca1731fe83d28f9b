package cache

import (
	"testing"

	"edgeproxy/codec"
)

func TestRFC9111_2_AppendKey(t *testing.T) {
	tests := []struct{ url, want string }{
		{"http://example.com/a", "http://example.com/a"},
		{"HTTP://Example.COM/A?Q=1", "http://example.com/A?Q=1"},
		{"http://example.com:80/x", "http://example.com/x"},
		{"https://example.com:443/x", "https://example.com/x"},
		{"http://example.com:443/x", "http://example.com:443/x"},
		{"https://example.com:80/x", "https://example.com:80/x"},
		{"http://example.com:8080/x", "http://example.com:8080/x"},
		{"http://example.com", "http://example.com/"},
		{"http://[::1]:8080/p", "http://[::1]:8080/p"},
		{"http://example.com/a//b/../%7e", "http://example.com/a//b/../%7e"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if got := string(AppendKey(nil, newReq("GET", tt.url))); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAppendKeyOriginForm(t *testing.T) {
	r := &codec.Request{Method: []byte("GET"), Form: codec.FormOrigin, Path: []byte("/p?q"), HostHeader: []byte("Example.com:80")}
	if got := string(AppendKey(nil, r)); got != "http://example.com/p?q" {
		t.Fatalf("got %q, want %q", got, "http://example.com/p?q")
	}
	r.HostHeader = []byte("[::1]:81")
	if got := string(AppendKey(nil, r)); got != "http://[::1]:81/p?q" {
		t.Fatalf("got %q, want %q", got, "http://[::1]:81/p?q")
	}
	r = &codec.Request{Method: []byte("CONNECT"), Form: codec.FormAuthority, Host: []byte("h"), Port: []byte("443")}
	if got := AppendKey([]byte("x"), r); string(got) != "x" {
		t.Fatalf("authority form: got %q, want dst unchanged", got)
	}
}

func TestAppendKeyAllocatesNothing(t *testing.T) {
	r := newReq("GET", "http://Example.com:80/some/path?query=1")
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { buf = AppendKey(buf[:0], r) }); n != 0 {
		t.Fatalf("got %v allocations, want 0", n)
	}
}

func TestRFC9111_4_1_SecondaryKey(t *testing.T) {
	r := newReq("GET", "http://h/", "Accept-Encoding", "gzip", "X-A", "1", "x-a", "2")
	got := string(appendSecondary(nil, []byte("accept-encoding,x-a,user-agent"), r))
	want := "accept-encoding:gzip\nx-a:1,2\nuser-agent\x01\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	empty := newReq("GET", "http://h/", "User-Agent", "")
	if a, b := appendSecondary(nil, []byte("user-agent"), empty), appendSecondary(nil, []byte("user-agent"), newReq("GET", "http://h/")); string(a) == string(b) {
		t.Fatalf("an empty field and an absent one share the key %q", a)
	}
}

func TestRFC9111_2_FullKeyCompared(t *testing.T) {
	c := smallCache()
	put(t, c, newReq("GET", "http://example.com/a1"), resp{headers: []string{"Cache-Control", "max-age=60"}, body: "one"})
	for _, u := range []string{"http://example.com/a2", "http://example.com/a", "http://example.com/a1/", "http://example.org/a1"} {
		if g := get(c, newReq("GET", u), t0); g.d != Miss || g.called {
			t.Errorf("%s: got %v, want miss", u, g.d)
		}
	}
	if g := get(c, newReq("GET", "http://example.com/a1"), t0); g.d != Fresh || g.body != "one" {
		t.Fatalf("got %v %q, want fresh %q", g.d, g.body, "one")
	}
}
