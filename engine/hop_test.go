package engine

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"edgeproxy/engine/cluster"
	"edgeproxy/engine/config"
)

// fakeHop is a parent or peer proxy: it records what it was sent and
// answers itself, cacheable.
type fakeHop struct {
	addr   string
	mu     sync.Mutex
	seen   []*http.Request
	probes int
	srv    *http.Server
}

func startFakeHop(t *testing.T) *fakeHop {
	t.Helper()
	f := &fakeHop{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	f.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		if r.URL.Path == "/proxy.pac" {
			f.probes++ // the health probe
		} else {
			f.seen = append(f.seen, r.Clone(r.Context()))
		}
		f.mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=600")
		_, _ = io.WriteString(w, "from the hop")
	})}
	go func() { _ = f.srv.Serve(ln) }()
	t.Cleanup(func() { _ = f.srv.Close() })
	return f
}

// probed waits until the hop has been probed once.
func (f *fakeHop) probed(t *testing.T) {
	t.Helper()
	if !eventually(10*time.Second, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.probes > 0
	}) {
		t.Fatal("the hop was never probed")
	}
}

func (f *fakeHop) requests() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.seen...)
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// ownedBy returns a URL of origin whose CARP owner among names is want.
func ownedBy(t *testing.T, origin string, names []string, want string) string {
	t.Helper()
	var ms []cluster.Member
	idx := -1
	for i, n := range names {
		ms = append(ms, cluster.Member{Name: n, Weight: 1})
		if n == want {
			idx = i
		}
	}
	tab, err := cluster.New(ms)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		u := fmt.Sprintf("%s/object/%d", origin, i)
		if tab.Owner([]byte(u), nil) == idx {
			return u
		}
	}
}

// clusterOf makes the proxy node a of peers a and b (at bAddr), probing
// too seldom to matter.
func clusterOf(bAddr string) func(*config.Config) {
	return func(c *config.Config) {
		c.Cluster.Self = "a"
		c.Cluster.Peers = []config.Peer{{Name: "a", Address: "127.0.0.1:1"}, {Name: "b", Address: bAddr}}
		c.Cluster.ProbeInterval = config.Duration(time.Hour)
	}
}

// Issue 14: a miss for a URL another peer owns goes to that peer in
// absolute form with Via, and is not stored on this node; a URL this node
// owns goes to its origin and is cached here.
func TestHopForwardsToOwner(t *testing.T) {
	origin := startCountingOrigin(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Cache-Control", "max-age=600")
		_, _ = io.WriteString(w, "from the origin")
	})
	peer := startFakeHop(t)
	logFile := t.TempDir() + "/access.log"
	s := startProxy(t, func(c *config.Config) {
		clusterOf(peer.addr)(c)
		c.Log.Path = logFile
	})
	names := []string{"a", "b"}

	theirs := ownedBy(t, origin.URL, names, "b")
	for i := 1; i <= 2; i++ {
		resp, body := cacheGet(t, s, theirs)
		if resp.StatusCode != 200 || body != "from the hop" {
			t.Fatalf("request %d for the peer's URL: got %d %q, want 200 %q", i, resp.StatusCode, body, "from the hop")
		}
	}
	seen := peer.requests()
	if len(seen) != 2 {
		t.Fatalf("the peer got %d requests, want 2 (the front node stores nothing)", len(seen))
	}
	if got := seen[0].RequestURI; got != theirs {
		t.Errorf("request target at the peer: got %q, want %q", got, theirs)
	}
	if got := seen[0].Header.Get("Via"); got != "1.1 edgeproxy-test" {
		t.Errorf("Via at the peer: got %q, want %q", got, "1.1 edgeproxy-test")
	}
	if origin.count() != 0 {
		t.Errorf("the origin got %d requests for the peer's URL, want 0", origin.count())
	}
	want := "GET " + theirs + " - CARP/127.0.0.1"
	if !eventually(5*time.Second, func() bool {
		b, _ := os.ReadFile(logFile)
		return strings.Contains(string(b), want)
	}) {
		b, _ := os.ReadFile(logFile)
		t.Errorf("access log: got %q, want a line with %q", b, want)
	}

	ours := ownedBy(t, origin.URL, names, "a")
	cacheGet(t, s, ours)
	resp, _ := cacheGet(t, s, ours)
	wantHit(t, resp, "second request for this node's own URL")
	wantOrigin(t, origin, 1, "this node's own URL")
	if got := s.hops.peers[1].requests.Load(); got != 2 {
		t.Errorf("requests counted for the peer: got %d, want 2", got)
	}
}

// Issue 14: a request that came from a peer (its Via names one) is never
// forwarded again, even for a URL that peer owns.
func TestHopFromPeerServedHere(t *testing.T) {
	origin := startCountingOrigin(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		_, _ = io.WriteString(w, "from the origin")
	})
	peer := startFakeHop(t)
	s := startProxy(t, clusterOf(peer.addr))
	theirs := ownedBy(t, origin.URL, []string{"a", "b"}, "b")
	resp, body := cacheGet(t, s, theirs, "Via: 1.1 b")
	if resp.StatusCode != 200 || body != "from the origin" {
		t.Fatalf("got %d %q, want 200 %q", resp.StatusCode, body, "from the origin")
	}
	if n := len(peer.requests()); n != 0 {
		t.Errorf("the peer got %d requests, want 0", n)
	}
	if got := s.hops.fromPeer.Load(); got != 1 {
		t.Errorf("requests counted from peers: got %d, want 1", got)
	}
}

// Issue 14: an owner that cannot be reached is marked down, and the
// request moves to the next node in rendezvous order (here this one, which
// fetches it from the origin).
func TestHopFailover(t *testing.T) {
	origin := startCountingOrigin(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Cache-Control", "max-age=600")
		_, _ = io.WriteString(w, "from the origin")
	})
	peer := startFakeHop(t)
	s := startProxy(t, clusterOf(peer.addr))
	peer.probed(t)
	_ = peer.srv.Close() // gone, but still up for the node until it connects
	theirs := ownedBy(t, origin.URL, []string{"a", "b"}, "b")
	resp, body := cacheGet(t, s, theirs)
	if resp.StatusCode != 200 || body != "from the origin" {
		t.Fatalf("got %d %q, want 200 %q", resp.StatusCode, body, "from the origin")
	}
	b := s.hops.peers[1]
	if b.up.Load() || b.failures.Load() != 1 || s.hops.failover.Load() != 1 {
		t.Errorf("peer b: got up %v, %d failures, %d failovers; want down, 1, 1", b.up.Load(), b.failures.Load(), s.hops.failover.Load())
	}
	// Down now: the next request is this node's own, and cached.
	cacheGet(t, s, theirs)
	resp, _ = cacheGet(t, s, theirs)
	wantHit(t, resp, "the dead owner's URL, taken over")
}

// Issue 14: through a parent, cache fills and pass-through requests (on
// the loop) and streamed uploads (on a worker) carry absolute-form targets
// and the parent's Basic credentials, and never reach the origin directly.
func TestParentCredentials(t *testing.T) {
	parent := startFakeHop(t)
	s := startProxy(t, func(c *config.Config) {
		c.Upstream.Parents = []config.Parent{{Name: "corp", Address: parent.addr, Username: "edge", Password: "pw"}}
		c.Cluster.ProbeInterval = config.Duration(time.Hour)
		c.Limits.MaxBodyBuffer = 1024 // a larger body is streamed by a worker
	})
	origin := closedAddr(t) // never reached directly
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("edge:pw"))
	for _, tc := range []struct {
		name, method, url, body string
	}{
		{"fill", "GET", "http://" + origin + "/fill", ""},
		{"pass-through", "POST", "http://" + origin + "/post", "small"},
		{"streamed upload", "POST", "http://" + origin + "/upload", strings.Repeat("u", 4096)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := cacheDo(t, s, tc.method, tc.url, tc.body)
			if resp.StatusCode != 200 || body != "from the hop" {
				t.Fatalf("got %d %q, want 200 %q", resp.StatusCode, body, "from the hop")
			}
			seen := parent.requests()
			r := seen[len(seen)-1]
			if r.RequestURI != tc.url {
				t.Errorf("target at the parent: got %q, want %q", r.RequestURI, tc.url)
			}
			if got := r.Header.Get("Proxy-Authorization"); got != want {
				t.Errorf("Proxy-Authorization: got %q, want %q", got, want)
			}
		})
	}
}

// Issue 14: with never_direct (the default with parents) a request gets
// 503 once the parent is down, and never reaches the origin; with
// never_direct off the origin is reached directly.
func TestNeverDirect(t *testing.T) {
	origin := startCountingOrigin(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		_, _ = io.WriteString(w, "from the origin")
	})
	for _, tc := range []struct {
		name        string
		neverDirect bool
		want        int
	}{
		{"never_direct", true, 503},
		{"direct allowed", false, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dead := closedAddr(t)
			s := startProxy(t, func(c *config.Config) {
				c.Upstream.Parents = []config.Parent{{Name: "corp", Address: dead}}
				c.Upstream.NeverDirect = new(tc.neverDirect)
				c.Cluster.ProbeInterval = config.Duration(time.Hour)
			})
			if !eventually(10*time.Second, func() bool { return !s.hops.parents[0].up.Load() }) {
				t.Fatal("the dead parent was never marked down")
			}
			resp, _ := cacheDo(t, s, "POST", origin.URL+"/x", "")
			if resp.StatusCode != tc.want {
				t.Errorf("got %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	if origin.count() != 1 {
		t.Errorf("the origin got %d requests, want 1 (only with never_direct off)", origin.count())
	}
}

// Issue 14: the routing decision, member by member.
func TestHopsNext(t *testing.T) {
	cfg := config.Default()
	cfg.Cluster.Self = "a"
	cfg.Cluster.Peers = []config.Peer{{Name: "a", Address: "10.0.0.1:3128"}, {Name: "b", Address: "10.0.0.2:3128"}}
	cfg.Upstream.Parents = []config.Parent{{Name: "p", Address: "10.0.1.1:8080"}}
	cfg.Upstream.NeverDirect = nil
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	h, err := newHops(cfg)
	if err != nil {
		t.Fatal(err)
	}
	theirs := []byte(ownedBy(t, "http://example.com", []string{"a", "b"}, "b"))
	ours := []byte(ownedBy(t, "http://example.com", []string{"a", "b"}, "a"))
	for _, tc := range []struct {
		name     string
		key      []byte
		fromPeer bool
		bUp, pUp bool
		want     string
		err      error
	}{
		{"peer's URL", theirs, false, true, true, "b", nil},
		{"peer's URL from a peer", theirs, true, true, true, "p", nil},
		{"peer's URL, peer down", theirs, false, false, true, "p", nil},
		{"own URL", ours, false, true, true, "p", nil},
		{"own URL, parent down", ours, false, true, false, "", ErrNoParent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.peers[1].up.Store(tc.bUp)
			h.parents[0].up.Store(tc.pUp)
			m, err := h.next(tc.key, tc.fromPeer)
			got := ""
			if m != nil {
				got = m.name
			}
			if got != tc.want || !errors.Is(err, tc.err) {
				t.Errorf("got %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = h.next(theirs, false) }); n != 0 {
		t.Errorf("next allocates %v times, want 0", n)
	}
}

// Issue 12: the head a parent proxy gets has the hashed URL as its
// absolute-form target (RFC 9112 §3.2.2) and the parent's credentials.
func TestAbsoluteHead(t *testing.T) {
	for _, tc := range []struct{ head, target, auth, want string }{
		{"GET /a?b HTTP/1.1\r\nHost: example.com\r\n\r\n", "http://example.com/a?b", "",
			"GET http://example.com/a?b HTTP/1.1\r\nHost: example.com\r\n\r\n"},
		{"POST /x HTTP/1.1\r\nHost: h:8080\r\nContent-Length: 4\r\n\r\n", "http://h:8080/x", "Basic Yzpw",
			"POST http://h:8080/x HTTP/1.1\r\nHost: h:8080\r\nContent-Length: 4\r\nProxy-Authorization: Basic Yzpw\r\n\r\n"},
	} {
		if got := string(withCredentials(absoluteHead([]byte(tc.head), []byte(tc.target)), tc.auth)); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// Issue 14: a PURGE at a node that does not own the URL removes the
// owner's copy (the owner gets the PURGE) and any local one.
func TestPurgeGoesToOwner(t *testing.T) {
	peer := startFakeHop(t)
	s := startProxy(t, clusterOf(peer.addr))
	theirs := ownedBy(t, "http://example.com", []string{"a", "b"}, "b")
	resp, _ := cacheDo(t, s, "PURGE", theirs, "")
	if resp.StatusCode != 200 {
		t.Fatalf("got %d, want the owner's 200", resp.StatusCode)
	}
	seen := peer.requests()
	if len(seen) != 1 || seen[0].Method != "PURGE" || seen[0].RequestURI != theirs {
		t.Fatalf("the owner got %d requests, want one PURGE %s", len(seen), theirs)
	}
	if !strings.Contains(seen[0].Header.Get("Via"), "edgeproxy-test") {
		t.Errorf("Via at the owner: got %q, want this node's name", seen[0].Header.Get("Via"))
	}
}

// Issue 14: in a cluster and below a parent, a hit on this node's own URL
// still allocates nothing: the routing decision does not allocate, and only
// a miss builds a route.
func TestHitAllocatesNothingInCluster(t *testing.T) {
	body := strings.Repeat("x", 1024)
	parent := cachedOrigin(t, body) // a net/http server takes absolute-form targets too
	s := startProxy(t, func(c *config.Config) {
		c.Cluster.Self = "a"
		c.Cluster.Peers = []config.Peer{{Name: "a", Address: "127.0.0.1:1"}}
		c.Upstream.Parents = []config.Parent{{Name: "p", Address: hostOf(parent)}}
		c.Cluster.ProbeInterval = config.Duration(time.Hour)
	})
	hc := newHitClient(t, s, "http://origin.example/obj", len(body))
	hc.do(t) // miss, stored, through the parent
	time.Sleep(50 * time.Millisecond)
	if head := hc.do(t); !bytes.Contains(head, []byte("X-Cache: HIT")) {
		t.Fatalf("second request not a hit:\n%s", head)
	}
	if n := testing.AllocsPerRun(2000, func() { hc.do(t) }); n != 0 {
		t.Errorf("a cache hit allocates %v times, want 0", n)
	}
}

// Issue 14: a parent that went away is marked down when a request cannot
// connect to it, and the request moves to the next parent: a cache fill
// and a pass-through POST on the loop, a streamed upload on a worker.
func TestParentFailover(t *testing.T) {
	for _, tc := range []struct{ name, method, body string }{
		{"fill", "GET", ""},
		{"pass-through", "POST", "small"},
		{"streamed upload", "POST", strings.Repeat("u", 4096)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first, second := startFakeHop(t), startFakeHop(t)
			s := startProxy(t, func(c *config.Config) {
				c.Upstream.Parents = []config.Parent{{Name: "p1", Address: first.addr}, {Name: "p2", Address: second.addr}}
				c.Cluster.ProbeInterval = config.Duration(time.Hour)
				c.Limits.MaxBodyBuffer = 1024
			})
			first.probed(t)
			second.probed(t)
			// The probes' answers are in too: a late one would mark the
			// first parent up again after the failover below.
			if !eventually(10*time.Second, func() bool { return s.hops.rounds.Load() > 0 }) {
				t.Fatal("no probe round ended")
			}
			_ = first.srv.Close()
			// A URL that hashes to the first parent.
			u := ownedBy(t, "http://origin.example", []string{"p1", "p2"}, "p1")
			resp, body := cacheDo(t, s, tc.method, u, tc.body)
			if resp.StatusCode != 200 || body != "from the hop" {
				t.Fatalf("got %d %q, want 200 from the second parent", resp.StatusCode, body)
			}
			if n := len(second.requests()); n != 1 {
				t.Errorf("the second parent got %d requests, want 1", n)
			}
			if s.hops.parents[0].up.Load() || s.hops.failover.Load() != 1 {
				t.Errorf("first parent: got up %v and %d failovers, want down and 1", s.hops.parents[0].up.Load(), s.hops.failover.Load())
			}
		})
	}
}
