package engine

import (
	"bufio"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingOrigin is a real net/http origin that counts the requests it gets
// and keeps a copy of each one's method, target and header fields. The
// handler is told the 1-based number of the request it answers.
type countingOrigin struct {
	URL string
	srv *http.Server

	mu   sync.Mutex // protects seen
	seen []seenRequest
}

// seenRequest is what the origin received.
type seenRequest struct {
	method string
	uri    string
	header http.Header
}

func startCountingOrigin(t testing.TB, h func(w http.ResponseWriter, r *http.Request, n int)) *countingOrigin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &countingOrigin{URL: "http://" + ln.Addr().String()}
	o.srv = &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			o.mu.Lock()
			o.seen = append(o.seen, seenRequest{method: r.Method, uri: r.RequestURI, header: r.Header.Clone()})
			n := len(o.seen)
			o.mu.Unlock()
			h(w, r, n)
		}),
	}
	go func() { _ = o.srv.Serve(ln) }()
	t.Cleanup(o.stop)
	return o
}

// count is the number of requests the origin has received.
func (o *countingOrigin) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.seen)
}

// request returns the i-th request received (1-based).
func (o *countingOrigin) request(i int) seenRequest {
	o.mu.Lock()
	defer o.mu.Unlock()
	if i < 1 || i > len(o.seen) {
		return seenRequest{header: http.Header{}}
	}
	return o.seen[i-1]
}

// stop closes the origin's listener and connections.
func (o *countingOrigin) stop() { _ = o.srv.Close() }

// cacheRequest builds a request head for url with extra field lines.
func cacheRequest(method, url string, fields ...string) string {
	var b strings.Builder
	b.WriteString(method + " " + url + " HTTP/1.1\r\nHost: " + hostOfURL(url) + "\r\n")
	for _, f := range fields {
		b.WriteString(f + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// hostOfURL is the authority of an absolute http URL.
func hostOfURL(u string) string {
	h := strings.TrimPrefix(u, "http://")
	if i := strings.IndexByte(h, '/'); i >= 0 {
		h = h[:i]
	}
	return h
}

// cacheDo sends one request on a new connection and returns the response
// with its body read whole. body, when not empty, is sent with a
// Content-Length.
func cacheDo(t testing.TB, s *Server, method, url, body string, fields ...string) (*http.Response, string) {
	t.Helper()
	if body != "" {
		fields = append(fields, "Content-Length: "+strconv.Itoa(len(body)))
	}
	rc := dialRaw(t, s)
	rc.send(cacheRequest(method, url, fields...) + body)
	resp := rc.response(method)
	return resp, bodyOf(t, resp)
}

// cacheGet is cacheDo for a GET.
func cacheGet(t testing.TB, s *Server, url string, fields ...string) (*http.Response, string) {
	t.Helper()
	return cacheDo(t, s, "GET", url, "", fields...)
}

// cacheGetErr sends a GET on a new connection and reads the response
// without failing the test on a short body: err is what reading the head
// or the body returned.
func cacheGetErr(t testing.TB, s *Server, url string, fields ...string) (*http.Response, []byte, error) {
	t.Helper()
	resp, body, err := rawGet(s.Addr(), url, fields...)
	if resp == nil && err != nil {
		t.Logf("GET %s: %v", url, err)
	}
	return resp, body, err
}

// rawGet is cacheGetErr for goroutines other than the test's: it reports
// every failure as err. resp is nil when no response head arrived.
func rawGet(proxy, url string, fields ...string) (*http.Response, []byte, error) {
	c, err := net.Dial("tcp", proxy)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, cacheRequest("GET", url, fields...)); err != nil {
		return nil, nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "GET"})
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// isHit reports whether the proxy answered from its cache.
func isHit(resp *http.Response) bool {
	return strings.HasPrefix(resp.Header.Get("X-Cache"), "HIT from edgeproxy-test")
}

// wantHit and wantMiss check the proxy's X-Cache report.
func wantHit(t testing.TB, resp *http.Response, what string) {
	t.Helper()
	if !isHit(resp) {
		t.Errorf("%s: X-Cache %q, Cache-Status %q: want a HIT", what, resp.Header.Get("X-Cache"), resp.Header.Values("Cache-Status"))
	}
}

func wantMiss(t testing.TB, resp *http.Response, what string) {
	t.Helper()
	if got := resp.Header.Get("X-Cache"); !strings.HasPrefix(got, "MISS from edgeproxy-test") {
		t.Errorf("%s: X-Cache %q: want a MISS", what, got)
	}
}

// wantOrigin checks how many requests reached the origin.
func wantOrigin(t testing.TB, o *countingOrigin, n int, what string) {
	t.Helper()
	if got := o.count(); got != n {
		t.Errorf("%s: origin requests: got %d, want %d", what, got, n)
	}
}

// ageOf returns the Age field as a number, failing the test without one.
func ageOf(t testing.TB, resp *http.Response) int {
	t.Helper()
	v := resp.Header.Values("Age")
	if len(v) != 1 {
		t.Fatalf("Age: got %q, want exactly one field", v)
	}
	n, err := strconv.Atoi(v[0])
	if err != nil || n < 0 {
		t.Fatalf("Age: got %q, want delta-seconds", v[0])
	}
	return n
}

// ttlOf returns the ttl parameter of a hit's Cache-Status, or ok false.
func ttlOf(resp *http.Response) (int, bool) {
	for _, v := range resp.Header.Values("Cache-Status") {
		_, after, found := strings.Cut(v, "ttl=")
		if !found {
			continue
		}
		if i := strings.IndexAny(after, ";, "); i >= 0 {
			after = after[:i]
		}
		n, err := strconv.Atoi(after)
		return n, err == nil
	}
	return 0, false
}

// wantTTL checks that a hit reports a ttl within [lo, hi].
func wantTTL(t testing.TB, resp *http.Response, lo, hi int) {
	t.Helper()
	n, ok := ttlOf(resp)
	if !ok || n < lo || n > hi {
		t.Errorf("Cache-Status %q: want ttl in [%d, %d]", resp.Header.Values("Cache-Status"), lo, hi)
	}
}

// eventually polls cond every 10ms until it holds or d has passed.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// patternBody is n reproducible pseudo-random bytes.
func patternBody(n int, seed uint64) []byte {
	b := make([]byte, n)
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

// staleFields make a response stale on arrival: its Age already exceeds
// max-age, so no test has to wait for it to expire.
func staleFields(h http.Header, extra string) {
	cc := "max-age=10"
	if extra != "" {
		cc += ", " + extra
	}
	h.Set("Cache-Control", cc)
	h.Set("Age", "20")
}

// httpDate formats t for a header field.
func httpDate(t time.Time) string { return t.UTC().Format(http.TimeFormat) }
