package auth

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// proxyStub is a forward proxy that authenticates and answers every request
// itself, so curl can be pointed at it without any traffic leaving the host.
type proxyStub struct {
	a    *Authenticator
	mu   sync.Mutex
	seen []string // Proxy-Authorization values that authenticated
}

func (p *proxyStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := []byte(r.Header.Get("Proxy-Authorization"))
	user, res := p.a.QuickCheck([]byte(r.Method), []byte(r.RequestURI), h)
	if res == NeedSlowPath {
		var ok bool
		if user, ok = p.a.SlowCheck([]byte(r.Method), []byte(r.RequestURI), h); ok {
			res = Authenticated
		}
	}
	if res == Authenticated {
		p.mu.Lock()
		p.seen = append(p.seen, string(h))
		p.mu.Unlock()
		fmt.Fprintf(w, "hello %s\n", user)
		return
	}
	for _, line := range bytes.Split(p.a.Challenges(nil, res == Stale), []byte("\r\n")) {
		if name, value, ok := bytes.Cut(line, []byte(": ")); ok {
			w.Header().Add(string(name), string(value))
		}
	}
	w.WriteHeader(http.StatusProxyAuthRequired)
}

// TestCurl runs curl's own Basic and Digest clients, including Digest with
// SHA-256 (curl 7.57 and later), against an Authenticator.
func TestCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not on PATH")
	}
	tests := []struct {
		name, file, flag, user, password, wantIn string
		basic                                    bool
	}{
		{"basic bcrypt", "testdata/htpasswd", "--proxy-basic", "alice", "wonder land", "Basic ", true},
		{"basic apr1", "testdata/htpasswd", "--proxy-basic", "bob", "b0b:pass", "Basic ", true},
		{"digest md5", "testdata/htdigest", "--proxy-digest", "erin", "secret one", "algorithm=MD5", false},
		{"digest sha-256", "testdata/htdigest-sha256", "--proxy-digest", "gina", "g1na pass", "algorithm=SHA-256", false},
		{"digest sha-256 preferred", "testdata/htdigest-sha256", "--proxy-digest", "erin", "secret one", "algorithm=SHA-256", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{DigestFile: tt.file}
			if tt.basic {
				cfg = Config{BasicFile: tt.file}
			}
			a, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			stub := &proxyStub{a: a}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			srv := &http.Server{Handler: stub}
			go srv.Serve(ln)
			defer srv.Close()

			// Two URLs in one run: for Basic the second is accepted from the
			// verification cache.
			out, err := exec.Command(curl, "-sS", "--max-time", "20", "-x", "http://"+ln.Addr().String(),
				tt.flag, "--proxy-user", tt.user+":"+tt.password,
				"http://origin.test/one", "http://origin.test/two?x=1").CombinedOutput()
			if err != nil {
				t.Fatalf("curl: %v: %s", err, out)
			}
			want := strings.Repeat("hello "+tt.user+"\n", 2)
			if string(out) != want {
				t.Errorf("got %q, want %q", out, want)
			}
			stub.mu.Lock()
			defer stub.mu.Unlock()
			if len(stub.seen) != 2 || !strings.Contains(stub.seen[0], tt.wantIn) {
				t.Errorf("got credentials %q, want two containing %q", stub.seen, tt.wantIn)
			}
		})
	}
}
