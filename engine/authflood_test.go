package engine

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"edgeproxy/engine/config"
)

// The hash pool runs at most its workers' checks at once, holds at most its
// queue more, and refuses the next at once with ErrAuthBusy.
func TestHashPoolBounded(t *testing.T) {
	p := newHashPool(1, 2)
	release := make(chan struct{})
	var ran sync.WaitGroup
	ran.Add(3)
	started := make(chan struct{})
	if err := p.submit(func() { close(started); <-release; ran.Done() }); err != nil {
		t.Fatal(err)
	}
	<-started // the worker holds the first; the queue is empty again
	for i := range 2 {
		if err := p.submit(func() { ran.Done() }); err != nil {
			t.Fatalf("queued check %d: got %v, want nil", i, err)
		}
	}
	if err := p.submit(func() { t.Error("a check beyond the queue ran") }); !errors.Is(err, ErrAuthBusy) {
		t.Fatalf("check beyond the queue: got %v, want %v", err, ErrAuthBusy)
	}
	close(release)
	ran.Wait()
	p.close()
}

// Issue 11: costly password checks run on their own pool, not on the origin
// workers. With the one hash worker held and its queue full, a request that
// needs a bcrypt check is answered 503 at once, while a user whose password
// is checked on the quick path ({SHA}) is still served through the origin
// workers.
func TestHashQueueFullAnswers503(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("right"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(t.TempDir(), "htpasswd")
	// carol's {SHA} password is "Ca.rol!", as in engine/auth/testdata.
	file := "alice:" + string(hash) + "\ncarol:{SHA}yMoPICcM7ttRggS4O4C64x6kYGo=\n"
	if err := os.WriteFile(htpasswd, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	release := make(chan struct{})
	held := make(chan struct{})
	s := startProxyWith(t, func(c *config.Config) {
		c.Auth.BasicFile = htpasswd
		c.Auth.HashWorkers = 1
		c.Auth.HashQueue = 1
		c.Workers = 4
	}, func(s *Server) {
		_ = s.hashes.submit(func() { close(held); <-release })
	})
	t.Cleanup(func() { close(release) }) // before the proxy's own cleanup
	<-held
	if err := s.hashes.submit(func() {}); err != nil {
		t.Fatalf("filling the queue: %v", err)
	}

	basic := func(user, password string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	}
	tests := []struct {
		name, cred string
		want       int
		wantBody   string
	}{
		{"bcrypt check with the queue full", basic("alice", "right"), 503, "auth.hash_queue"},
		{"quick-path user still served", basic("carol", "Ca.rol!"), 200, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := dialRaw(t, s)
			rc.send("GET " + origin + "/ HTTP/1.1\r\nHost: " + strings.TrimPrefix(origin, "http://") + "\r\nProxy-Authorization: " + tt.cred + "\r\n\r\n")
			resp := rc.response("GET")
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.want || !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("got %d %q, want %d with %q", resp.StatusCode, body, tt.want, tt.wantBody)
			}
		})
	}
}
