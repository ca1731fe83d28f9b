package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// standIn is a tiny caching forward proxy: it serves a URL from a map after
// the first fetch, and on a miss of a path in rules it prefetches the
// path's rule target from the origin with X-Edgeproxy-Prefetch: 1, cached
// or not.
type standIn struct {
	rules map[string]string // origin path → origin path to prefetch

	mu    sync.Mutex
	cache map[string][]byte   // absolute URL → body
	order map[string][]string // client address → paths in arrival order
}

func newStandIn(rules map[string]string) *standIn {
	return &standIn{rules: rules, cache: map[string][]byte{}, order: map[string][]string{}}
}

func (p *standIn) fetch(u string, prefetch bool) ([]byte, error) {
	status, body, err := p.fetchStatus(u, prefetch, nil)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("origin: %d", status)
	}
	return body, err
}

// fetchStatus fetches u with the given request fields and returns the
// status and body, whatever the status.
func (p *standIn) fetchStatus(u string, prefetch bool, fields http.Header) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, err
	}
	if prefetch {
		req.Header.Set(PrefetchHeader, "1")
	}
	for k, v := range fields {
		req.Header[k] = v
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func (p *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !r.URL.IsAbs() {
		http.Error(w, "absolute-form only", http.StatusBadRequest)
		return
	}
	u := r.URL.String()
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	p.mu.Lock()
	p.order[host] = append(p.order[host], r.URL.Path)
	body, hit := p.cache[u]
	p.mu.Unlock()
	if hit {
		w.Header().Set("X-Cache", "HIT from stand-in")
		w.Write(body)
		return
	}
	fields := http.Header{}
	for _, k := range []string{"If-Modified-Since", "Range"} {
		if v := r.Header.Get(k); v != "" {
			fields.Set(k, v)
		}
	}
	status, body, err := p.fetchStatus(u, false, fields)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
		w.Write(body)
		return
	}
	p.mu.Lock()
	p.cache[u] = body
	p.mu.Unlock()
	if target, ok := p.rules[r.URL.Path]; ok {
		pu := *r.URL
		pu.Path = target
		if b, err := p.fetch(pu.String(), true); err == nil {
			p.mu.Lock()
			p.cache[pu.String()] = b
			p.mu.Unlock()
		}
	}
	w.Header().Set("Cache-Status", "stand-in; fwd=miss; stored")
	w.Write(body)
}

func writeLog(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "access.log")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func squidLine(ms int, client, url string, size int) string {
	return fmt.Sprintf("1767225600.%03d 1 %s TCP_MISS/200 %d GET %s - HIER_DIRECT/h -", ms, client, size, url)
}

// TestReplayCounts replays a small trace in log order (one worker) and
// checks every figure by hand.
func TestReplayCounts(t *testing.T) {
	const c1, c2, c3 = "10.0.0.1", "10.0.0.2", "10.0.0.3"
	log := writeLog(t,
		squidLine(1, c3, "http://h/E", 1000), // 1 miss
		squidLine(2, c1, "http://h/A", 100),  // 2 miss; the proxy prefetches B
		squidLine(3, c2, "http://h/A", 100),  // 3 hit
		squidLine(4, c1, "http://h/B", 200),  // 4 hit, thanks to the prefetch: useful
		"1767225600.005 1 10.0.0.9 TCP_TUNNEL/200 0 CONNECT h:443 - HIER_DIRECT/h -",
		squidLine(6, c2, "http://h/B", 200), // 5 hit
		squidLine(7, c1, "http://h/C", 300), // 6 miss; the proxy prefetches E, never asked for again: wasted
		squidLine(8, c2, "http://h/D", 50),  // 7 miss
		squidLine(9, c1, "http://h/A", 100), // 8 hit
		"garbage",
	)
	proxy := httptest.NewServer(newStandIn(map[string]string{"/h/A": "/h/B", "/h/C": "/h/E"}))
	defer proxy.Close()
	res, err := Run(Config{Log: log, Proxy: proxy.Listener.Addr().String(), Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := Result{
		Format: "squid", Lines: 10, Malformed: 1, Skipped: 1, Clients: 3,
		Requests: 8, Hits: 4, HitRatio: 0.5, Bytes: 2050, HitBytes: 600, ByteHitRatio: 600.0 / 2050,
		OriginRequests: 6, UplinkBytes: 2650,
		Prefetches: 2, PrefetchUseful: 1, PrefetchPrecision: 0.5, PrefetchBytes: 1200, WastedPrefetchBytes: 1000,
	}
	got := *res
	got.Seconds = 0
	if got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	var b strings.Builder
	if err := res.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"hit ratio       0.5000 (4 hits)", "prefetches      2, 1 useful: precision 0.5000", "1200, 1000 wasted"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("text output lacks %q:\n%s", s, b.String())
		}
	}
}

// TestReplayClientOrder replays many clients on several workers, each
// client from its own loopback address, and checks that the proxy saw each
// client's requests in log order.
func TestReplayClientOrder(t *testing.T) {
	var lines []string
	want := map[string][]string{}
	for i := range 400 {
		client := fmt.Sprintf("10.0.%d.%d", i%7, i%7+1)
		path := fmt.Sprintf("/obj/%d", i%23)
		lines = append(lines, squidLine(i%1000, client, "http://h"+path, 10+i%23))
		want[client] = append(want[client], "/h"+path)
	}
	log := writeLog(t, lines...)
	p := newStandIn(nil)
	proxy := httptest.NewServer(p)
	defer proxy.Close()
	res, err := Run(Config{Log: log, Proxy: proxy.Listener.Addr().String(), Concurrency: 4, BindClients: true})
	if err != nil {
		t.Fatal(err)
	}
	// Workers may miss the same URL at once: the stand-in does not collapse.
	if res.Requests != 400 || res.Errors != 0 || res.OriginRequests < 23 || res.Hits != 400-res.OriginRequests {
		t.Errorf("got %+v, want 400 requests, a miss per origin request, at least 23, no error", res)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.order) != 7 {
		t.Fatalf("proxy saw %d client addresses, want 7", len(p.order))
	}
	// Client i (in order of first appearance) connects from 127.1.0.i+1.
	for i := range 7 {
		client := fmt.Sprintf("10.0.%d.%d", i, i+1)
		got := p.order[clientIP(i).String()]
		if strings.Join(got, " ") != strings.Join(want[client], " ") {
			t.Errorf("client %s: proxy saw %v, want %v", client, got, want[client])
		}
	}
}

func TestReplayCommonLog(t *testing.T) {
	log := writeLog(t,
		`10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a.html HTTP/1.1" 200 300`,
		`10.0.0.1 - - [10/Oct/2000:13:55:37 -0700] "GET /a.html HTTP/1.1" 200 300`,
	)
	proxy := httptest.NewServer(newStandIn(nil))
	defer proxy.Close()
	res, err := Run(Config{Log: log, Proxy: proxy.Listener.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Format != "common" || res.Requests != 2 || res.Hits != 1 || res.UplinkBytes != 300 || res.Errors != 0 {
		t.Errorf("got %+v, want a common log, 2 requests, 1 hit, 300 uplink bytes", res)
	}
}

func TestReplayErrors(t *testing.T) {
	log := writeLog(t, squidLine(1, "c", "http://h/a", 1))
	for _, tc := range []struct {
		c   Config
		err error
	}{
		{Config{Log: log, Proxy: "192.0.2.1:3128"}, errNotLoopback},
		{Config{Log: log, Proxy: "example.com:3128"}, errNotLoopback},
		{Config{Log: log, Proxy: "3128"}, errNotLoopback},
		{Config{Log: writeLog(t, "nonsense"), Proxy: "127.0.0.1:1"}, errFormat},
		{Config{Log: writeLog(t, "1767225600.001 1 c TCP_TUNNEL/200 0 CONNECT h:443 - HIER_DIRECT/h -"), Proxy: "127.0.0.1:1"}, errEmpty},
		{Config{Log: filepath.Join(t.TempDir(), "none"), Proxy: "127.0.0.1:1"}, os.ErrNotExist},
	} {
		if _, err := Run(tc.c); !errors.Is(err, tc.err) {
			t.Errorf("Run(%+v): got %v, want %v", tc.c, err, tc.err)
		}
	}
}

func TestIsHit(t *testing.T) {
	for _, tc := range []struct {
		h    http.Header
		want bool
	}{
		{http.Header{"X-Cache": {"HIT from edgeproxy"}}, true},
		{http.Header{"X-Cache": {"hit"}}, true},
		{http.Header{"X-Cache": {"MISS from edgeproxy"}}, false},
		{http.Header{"Cache-Status": {"edgeproxy; hit; ttl=30"}}, true},
		{http.Header{"Cache-Status": {"edgeproxy; fwd=miss; stored"}}, false},
		{http.Header{"Cache-Status": {"hit"}}, false},                               // a cache named "hit"
		{http.Header{"Cache-Status": {"origin-cache; hit, edge; fwd=miss"}}, false}, // the last member is ours
		{http.Header{"Cache-Status": {"origin-cache; fwd=miss, edge; hit"}}, true},
		{http.Header{"Cache-Status": {"origin-cache; fwd=miss", "edge; hit; ttl=3"}}, true},
		{http.Header{}, false},
	} {
		if got := isHit(tc.h); got != tc.want {
			t.Errorf("isHit(%v): got %v, want %v", tc.h, got, tc.want)
		}
	}
}

func TestOriginPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://example.com/a/b?q=1", "/example.com/a/b?q=1"},
		{"http://example.com:8080/", "/example.com:8080/"},
		{"http://example.com", "/example.com/"},
		{"https://example.com/x", "/example.com/x"},
		{"/local/path", "/local/path"},
		{"odd", "/odd"},
		{"http://h/a?", "/h/a?"},
		{"http://h/p#frag", "/h/p%23frag"},
		{"http://h/a b\"c", "/h/a%20b%22c"},
	} {
		if got := originPath(tc.in); got != tc.want {
			t.Errorf("originPath(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Issue 17: the replay answers what the log says at each moment: logged
// statuses other than 200 (a 404, a 304 replayed as a conditional
// request), a URL whose size changes, and URLs with "#" or a bare "?",
// which reach the origin byte for byte.
func TestReplayKeepsLoggedStatusAndSize(t *testing.T) {
	line := func(ms int, status int, size int, url string) string {
		return fmt.Sprintf("1767225600.%03d 1 10.0.0.1 TCP_MISS/%d %d GET %s - HIER_DIRECT/h -", ms, status, size, url)
	}
	log := writeLog(t,
		line(1, 200, 100, "http://h/a?"),
		line(2, 200, 50, "http://h/b#frag"),
		line(3, 404, 30, "http://h/c"),
		line(4, 200, 100, "http://h/a?"),    // hit
		line(5, 200, 50, "http://h/b#frag"), // hit
		line(6, 200, 10, "http://h/d"),
		line(7, 304, 10, "http://h/d"),  // conditional: the stand-in answers its stored 200, a hit
		line(8, 200, 20, "http://h/d"),  // a new version; the stand-in still holds the old one
		line(9, 200, 100, "http://h/a"), // not the same URI as /a?
	)
	proxy := httptest.NewServer(newStandIn(nil))
	defer proxy.Close()
	res, err := Run(Config{Log: log, Proxy: proxy.Listener.Addr().String(), Serial: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 || res.OriginNotFound != 0 {
		t.Fatalf("got %d errors (%s), %d origin 404s for unknown URIs, want none", res.Errors, res.FirstError, res.OriginNotFound)
	}
	if res.Requests != 9 || res.Hits != 4 || res.Mismatched != 1 || res.OriginRequests != 5 {
		t.Errorf("got %d requests, %d hits, %d size mismatches, %d origin requests; want 9, 4, 1, 5", res.Requests, res.Hits, res.Mismatched, res.OriginRequests)
	}
	// 100+50+30+100+50+10+10 (the 304 counts the object)+10 (old version)+100
	if res.Bytes != 460 || res.HitBytes != 170 {
		t.Errorf("got %d bytes, %d hit bytes; want 460, 170", res.Bytes, res.HitBytes)
	}
}

// Issue 17: serial replays of the same log give the same figures.
func TestReplaySerialIsDeterministic(t *testing.T) {
	var lines []string
	for i := range 300 {
		lines = append(lines, squidLine(i%1000, fmt.Sprintf("10.0.0.%d", i%9), fmt.Sprintf("http://h/o%d", (i*i)%37), 10+i%37))
	}
	log := writeLog(t, lines...)
	var first *Result
	for range 3 {
		proxy := httptest.NewServer(newStandIn(nil))
		res, err := Run(Config{Log: log, Proxy: proxy.Listener.Addr().String(), Serial: true, Concurrency: 8})
		proxy.Close()
		if err != nil {
			t.Fatal(err)
		}
		res.Seconds = 0
		if first == nil {
			first = res
		} else if *res != *first {
			t.Fatalf("got %+v, want %+v", *res, *first)
		}
	}
}
