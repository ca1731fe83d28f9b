package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// clientFrom is an HTTP client that reaches the proxy from the loopback
// address local (all of 127.0.0.0/8 is this machine on Linux) with the
// given Basic credentials.
func clientFrom(t *testing.T, proxy, local, user, password string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 10 * time.Second}
	pu := &url.URL{Scheme: "http", Host: proxy, User: url.UserPassword(user, password)}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:               http.ProxyURL(pu),
			DialContext:         d.DialContext,
			MaxIdleConnsPerHost: 4,
		},
	}
}

// Issue 11: a flood of wrong bcrypt passwords from one address (127.0.0.2)
// is refused by the per-address failure limit after auth.max_failures
// attempts, without hashing, while a user at another address (127.0.0.1)
// authenticates during the flood and has every request served.
func TestAuthFloodLimitedPerAddress(t *testing.T) {
	const maxFailures = 5
	hash, err := bcrypt.GenerateFromPassword([]byte("right"), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(htpasswd, []byte("alice:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		io.WriteString(w, "ok")
	}))
	// A window of an hour gives back no attempt during the test, so the
	// counts below are exact.
	p := startProc(t, fmt.Sprintf("auth:\n  basic_file: %s\n  max_failures: %d\n  failure_window: 1h\n", htpasswd, maxFailures))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var refused, challenged, other atomic.Int64
	var flood sync.WaitGroup
	const floodConns, perConn = 8, 40
	for i := range floodConns {
		flood.Add(1)
		go func() {
			defer flood.Done()
			for j := range perConn {
				c := clientFrom(t, p.addr, "127.0.0.2", "alice", fmt.Sprintf("wrong-%d-%d", i, j))
				req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+origin+"/flood", nil)
				resp, err := c.Do(req)
				if err != nil {
					other.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				c.CloseIdleConnections()
				switch resp.StatusCode {
				case http.StatusForbidden:
					refused.Add(1)
				case http.StatusProxyAuthRequired:
					challenged.Add(1)
				default:
					other.Add(1)
				}
			}
		}()
	}
	// The legitimate user starts once the flood is being refused, so its
	// first request (not yet verified) goes through the hash path while
	// the flood runs.
	deadline := time.Now().Add(30 * time.Second)
	for refused.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	legit := clientFrom(t, p.addr, "127.0.0.1", "alice", "right")
	const legitRequests = 50
	served := 0
	for i := range legitRequests {
		resp, err := legit.Get("http://" + origin + "/page")
		if err != nil {
			t.Fatalf("legitimate request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && string(body) == "ok" {
			served++
		} else {
			t.Errorf("legitimate request %d: got %d %q, want 200 \"ok\"", i, resp.StatusCode, body)
		}
	}
	flood.Wait()

	if served != legitRequests {
		t.Errorf("legitimate requests served: got %d, want %d", served, legitRequests)
	}
	total := int64(floodConns * perConn)
	if got := challenged.Load(); got > maxFailures {
		t.Errorf("flood answered 407 (hashed): got %d, want at most auth.max_failures = %d", got, maxFailures)
	}
	if got, want := refused.Load(), total-maxFailures; got < want {
		t.Errorf("flood refused 403 by the limit: got %d, want at least %d of %d", got, want, total)
	}
	if got := other.Load(); got != 0 {
		t.Errorf("flood requests with another outcome: got %d, want 0", got)
	}
	t.Logf("flood: %d refused, %d challenged; legitimate: %d of %d served", refused.Load(), challenged.Load(), served, legitRequests)
}
