package engine

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"edgeproxy/engine/config"
)

// hitClient sends one request again and again over a connection and reads
// each response whole, without allocating, so that allocations measured
// around it are the proxy's.
type hitClient struct {
	c    net.Conn
	req  []byte
	buf  []byte
	body int
}

func newHitClient(tb testing.TB, s *Server, url string, body int) *hitClient {
	tb.Helper()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return &hitClient{c: c, req: []byte("GET " + url + " HTTP/1.1\r\nHost: h\r\n\r\n"), buf: make([]byte, 64<<10), body: body}
}

// do sends the request and returns the response head.
func (h *hitClient) do(tb testing.TB) []byte {
	if _, err := h.c.Write(h.req); err != nil {
		tb.Fatal(err)
	}
	n := 0
	for {
		m, err := h.c.Read(h.buf[n:])
		if err != nil {
			tb.Fatal(err)
		}
		n += m
		if i := bytes.Index(h.buf[:n], []byte("\r\n\r\n")); i >= 0 && n >= i+4+h.body {
			return h.buf[:i+4]
		}
	}
}

func cachedOrigin(tb testing.TB, body string) string {
	return startOrigin(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Type", "application/octet-stream")
		io.WriteString(w, body)
	}))
}

// A cache hit is answered on the event loop without a single allocation:
// parse, key, lookup, write, metrics and the access-log record.
func TestHitAllocatesNothing(t *testing.T) {
	t.Run("log off", func(t *testing.T) { testHitAllocs(t, config.LogOff) })
	t.Run("squid log on", func(t *testing.T) { testHitAllocs(t, filepath.Join(t.TempDir(), "access.log")) })
	// With the learner on, the loop copies each request into its feed and
	// the learner observes it and finds its prefetch set fresh: neither
	// allocates.
	t.Run("prefetch on", func(t *testing.T) {
		testHitAllocs(t, config.LogOff, func(c *config.Config) {
			c.Prefetch.Enabled = true
			c.Prefetch.MinCount = 1
		})
	})
}

func testHitAllocs(t *testing.T, logPath string, mutate ...func(*config.Config)) {
	body := strings.Repeat("x", 1024)
	origin := cachedOrigin(t, body)
	s := startProxy(t, func(c *config.Config) {
		c.Log.Path = logPath
		for _, m := range mutate {
			m(c)
		}
	})
	hc := newHitClient(t, s, origin+"/obj", len(body))
	run := func() { hc.do(t) }
	if s.pf != nil { // teach the learner /obj -> /dep, both stored
		dep := newHitClient(t, s, origin+"/dep", len(body))
		// Every run then finds /dep in /obj's prefetch set, fresh.
		run = func() { hc.do(t); dep.do(t) }
		for range 3 {
			hc.do(t)
			dep.do(t)
		}
		if !eventually(5*time.Second, func() bool { return len(s.pf.graph.PrefetchSet(origin+"/obj", nil)) == 1 }) {
			t.Fatal("the learner did not learn /obj -> /dep")
		}
	}
	hc.do(t) // miss, stored
	time.Sleep(50 * time.Millisecond)
	if head := hc.do(t); !bytes.Contains(head, []byte("X-Cache: HIT")) {
		t.Fatalf("second request not a hit:\n%s", head)
	}
	if n := testing.AllocsPerRun(2000, run); n != 0 {
		t.Errorf("a cache hit allocates %v times, want 0", n)
	}
	if s.pf != nil && !eventually(5*time.Second, func() bool { return s.pf.fresh.Load() >= 2000 }) {
		t.Errorf("the learner found /dep fresh %d times, want 2000: the measured path was not the one meant", s.pf.fresh.Load())
	}
}

// BenchmarkHit is the whole hit path over a loopback socket: the client
// writes a request and reads the 1 KiB answer. BenchmarkOriginDirect is the
// same client against the origin (net/http) as a baseline.
func BenchmarkHit(b *testing.B) {
	body := strings.Repeat("x", 1024)
	origin := cachedOrigin(b, body)
	s := startProxy(b, nil)
	hc := newHitClient(b, s, origin+"/obj", len(body))
	hc.do(b)
	time.Sleep(50 * time.Millisecond)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		hc.do(b)
	}
}

func BenchmarkOriginDirect(b *testing.B) {
	body := strings.Repeat("x", 1024)
	origin := cachedOrigin(b, body)
	c, err := net.Dial("tcp", strings.TrimPrefix(origin, "http://"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	hc := &hitClient{c: c, req: []byte("GET /obj HTTP/1.1\r\nHost: h\r\n\r\n"), buf: make([]byte, 64<<10), body: len(body)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		hc.do(b)
	}
}
