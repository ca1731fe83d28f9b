package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"edgeproxy/engine/config"
)

// echoOrigin records what it received and answers with a small text body.
type echoOrigin struct {
	mu   sync.Mutex
	seen []*http.Request
}

func (o *echoOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.seen = append(o.seen, r)
	o.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("X-Origin-Proto", r.Proto)
	fmt.Fprintf(w, "hello %s", r.URL.Path)
}

func (o *echoOrigin) last() *http.Request {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seen[len(o.seen)-1]
}

// RFC 9110 §7.6.1: hop-by-hop fields, and every field named in Connection,
// are removed; Via is added both ways; X-Forwarded-For gets the client.
func TestForwardHeaders(t *testing.T) {
	o := &echoOrigin{}
	origin := startOrigin(t, o)
	s := startProxy(t, nil)
	rc := dialRaw(t, s)
	rc.send("GET " + origin + "/a HTTP/1.1\r\nHost: ignored.example\r\n" +
		"Connection: keep-alive, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\n" +
		"Proxy-Connection: keep-alive\r\nTE: trailers\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\n" +
		"Upgrade: websocket\r\nX-Forwarded-For: 10.1.2.3\r\nCookie: a=1; b=2\r\nX-Keep: yes\r\n\r\n")
	resp := rc.response("GET")
	if got := bodyOf(t, resp); got != "hello /a" {
		t.Fatalf("body: got %q, want %q", got, "hello /a")
	}
	if got := resp.Header.Get("Via"); got != "1.1 edgeproxy-test" {
		t.Errorf("response Via: got %q, want %q", got, "1.1 edgeproxy-test")
	}
	r := o.last()
	for _, h := range []string{"Connection", "X-Secret", "Keep-Alive", "Proxy-Connection", "Te", "Proxy-Authorization", "Upgrade"} {
		if v := r.Header.Get(h); v != "" {
			t.Errorf("origin received hop-by-hop %s: %q", h, v)
		}
	}
	if r.Host != hostOf(origin) {
		t.Errorf("Host: got %q, want %q (rebuilt from the URI)", r.Host, hostOf(origin))
	}
	checks := map[string]string{
		"Via":             "1.1 edgeproxy-test",
		"X-Forwarded-For": "10.1.2.3, 127.0.0.1",
		"Cookie":          "a=1; b=2",
		"X-Keep":          "yes",
	}
	for h, want := range checks {
		if got := r.Header.Get(h); got != want {
			t.Errorf("origin %s: got %q, want %q", h, got, want)
		}
	}
	if r.Proto != "HTTP/1.1" {
		t.Errorf("origin saw %s, want HTTP/1.1", r.Proto)
	}
}

// RFC 9112 §2.3 and §9.3: an HTTP/1.0 client is served, its request reaches
// the origin as HTTP/1.1, and the connection is not kept.
func TestHTTP10Client(t *testing.T) {
	o := &echoOrigin{}
	origin := startOrigin(t, o)
	s := startProxy(t, nil)
	rc := dialRaw(t, s)
	rc.send("GET " + origin + "/old HTTP/1.0\r\n\r\n")
	resp := rc.response("GET")
	if got := bodyOf(t, resp); got != "hello /old" {
		t.Fatalf("body: got %q", got)
	}
	if got := resp.Header.Get("X-Origin-Proto"); got != "HTTP/1.1" {
		t.Errorf("origin saw %q, want HTTP/1.1", got)
	}
	if got := o.last().Header.Get("Via"); got != "1.0 edgeproxy-test" {
		t.Errorf("Via for a 1.0 request: got %q, want %q", got, "1.0 edgeproxy-test")
	}
	if !rc.closed() {
		t.Error("connection to an HTTP/1.0 client stayed open")
	}
}

// Paths are forwarded byte-exact: no merging of slashes, no dot segments
// resolved, no re-encoding.
func TestPathByteExact(t *testing.T) {
	o := &echoOrigin{}
	origin := startOrigin(t, o)
	s := startProxy(t, nil)
	rc := dialRaw(t, s)
	for _, p := range []string{"/a//b", "/a/./b/../c", "/x%2Fy?q=1&r=%20", "/"} {
		rc.send("GET " + origin + p + " HTTP/1.1\r\nHost: h\r\n\r\n")
		_ = rc.response("GET")
		if got := o.last().RequestURI; got != p {
			t.Errorf("origin request-target: got %q, want %q", got, p)
		}
	}
	rc.send("GET " + origin + " HTTP/1.1\r\nHost: h\r\n\r\n")
	_ = rc.response("GET")
	if got := o.last().RequestURI; got != "/" {
		t.Errorf("empty path: got %q, want %q", got, "/")
	}
}

func TestHeadRequest(t *testing.T) {
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "12345")
		if r.Method != "HEAD" {
			_, _ = w.Write(make([]byte, 12345))
		}
	}))
	s := startProxy(t, nil)
	rc := dialRaw(t, s)
	rc.send("HEAD " + origin + "/h HTTP/1.1\r\nHost: h\r\n\r\n")
	resp := rc.response("HEAD")
	if resp.ContentLength != 12345 {
		t.Errorf("HEAD Content-Length: got %d, want 12345", resp.ContentLength)
	}
	// The connection is still usable: no body bytes were sent.
	rc.send("HEAD " + origin + "/h HTTP/1.1\r\nHost: h\r\n\r\n")
	if resp := rc.response("HEAD"); resp.StatusCode != 200 {
		t.Errorf("second HEAD: got %d", resp.StatusCode)
	}
}

// A chunked origin response reaches an HTTP/1.1 client chunked, and an
// HTTP/1.0 client delimited by close.
func TestChunkedResponse(t *testing.T) {
	parts := []string{"alpha-", "beta-", strings.Repeat("g", 100000)}
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range parts {
			_, _ = io.WriteString(w, p)
			w.(http.Flusher).Flush()
		}
	}))
	want := strings.Join(parts, "")
	s := startProxy(t, nil)
	rc := dialRaw(t, s)
	rc.send("GET " + origin + "/c HTTP/1.1\r\nHost: h\r\n\r\n")
	resp := rc.response("GET")
	if len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
		t.Errorf("Transfer-Encoding: got %v, want [chunked]", resp.TransferEncoding)
	}
	if got := bodyOf(t, resp); got != want {
		t.Errorf("chunked body: got %d bytes, want %d", len(got), len(want))
	}
	rc10 := dialRaw(t, s)
	rc10.send("GET " + origin + "/c HTTP/1.0\r\n\r\n")
	resp = rc10.response("GET")
	if got := bodyOf(t, resp); got != want {
		t.Errorf("close-delimited body: got %d bytes, want %d", len(got), len(want))
	}
}

// RFC 9112 §9.3.2: pipelined requests are answered in order on one
// connection.
func TestPipelining(t *testing.T) {
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(100 * time.Millisecond)
		}
		io.WriteString(w, r.URL.Path)
	}))
	s := startProxy(t, nil)
	rc := dialRaw(t, s)
	var b strings.Builder
	paths := []string{"/slow", "/1", "/2", "/slow", "/3"}
	for _, p := range paths {
		b.WriteString("GET " + origin + p + " HTTP/1.1\r\nHost: h\r\n\r\n")
	}
	rc.send(b.String())
	for _, p := range paths {
		if got := bodyOf(t, rc.response("GET")); got != p {
			t.Fatalf("pipelined response out of order: got %q, want %q", got, p)
		}
	}
}

// A request body is forwarded intact: a small one buffered, a large one
// streamed from the detached socket, a chunked one decoded and re-framed.
func TestRequestBodies(t *testing.T) {
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, _ := io.Copy(h, r.Body)
		fmt.Fprintf(w, "%d %s", n, hex.EncodeToString(h.Sum(nil)))
	}))
	s := startProxy(t, nil)
	c := proxyClient(s)
	for _, size := range []int{0, 1, 1000, 64 << 10, 64<<10 + 1, 5 << 20} {
		body := strings.Repeat("0123456789abcdef", size/16+1)[:size]
		sum := sha256.Sum256([]byte(body))
		want := fmt.Sprintf("%d %s", size, hex.EncodeToString(sum[:]))
		resp, err := c.Post(origin+"/up", "application/octet-stream", strings.NewReader(body))
		if err != nil {
			t.Fatalf("POST %d bytes: %v", size, err)
		}
		if got := bodyOf(t, resp); got != want {
			t.Errorf("POST %d bytes: origin got %q, want %q", size, got, want)
		}
		// Chunked: net/http sends an unknown-length body chunked.
		resp, err = c.Post(origin+"/up", "application/octet-stream", io.MultiReader(strings.NewReader(body)))
		if err != nil {
			t.Fatalf("chunked POST %d bytes: %v", size, err)
		}
		if got := bodyOf(t, resp); got != want {
			t.Errorf("chunked POST %d bytes: origin got %q, want %q", size, got, want)
		}
	}
}

// RFC 9110 §7.6.3: a request that already passed through this proxy is a
// loop and gets 508.
func TestForwardingLoop(t *testing.T) {
	s := startProxy(t, nil)
	rc := dialRaw(t, s)
	rc.send("GET http://127.0.0.1:80/ HTTP/1.1\r\nHost: h\r\nVia: 1.1 other, 1.1 edgeproxy-test (edgeproxy)\r\n\r\n")
	if resp := rc.response("GET"); resp.StatusCode != 508 {
		t.Errorf("looped request: got %d, want 508", resp.StatusCode)
	}
}

// RFC 9110 §7.6.2: Max-Forwards 0 makes the proxy answer TRACE and OPTIONS
// itself; a larger value is decremented.
func TestMaxForwards(t *testing.T) {
	o := &echoOrigin{}
	origin := startOrigin(t, o)
	s := startProxy(t, nil)
	rc := dialRaw(t, s)
	rc.send("TRACE " + origin + "/t HTTP/1.1\r\nHost: h\r\nMax-Forwards: 0\r\nAuthorization: secret\r\nX-A: b\r\n\r\n")
	resp := rc.response("TRACE")
	body := bodyOf(t, resp)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "message/http" {
		t.Fatalf("TRACE: got %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.HasPrefix(body, "TRACE "+origin+"/t HTTP/1.1\r\n") || !strings.Contains(body, "X-A: b") || strings.Contains(body, "secret") {
		t.Errorf("TRACE echo: got %q", body)
	}
	rc.send("OPTIONS " + origin + "/o HTTP/1.1\r\nHost: h\r\nMax-Forwards: 3\r\n\r\n")
	_ = rc.response("OPTIONS")
	if got := o.last().Header.Get("Max-Forwards"); got != "2" {
		t.Errorf("forwarded Max-Forwards: got %q, want %q", got, "2")
	}
}

func TestForwardedForModes(t *testing.T) {
	for _, tc := range []struct {
		mode config.ForwardedFor
		want string
	}{
		{config.ForwardedOn, "10.9.9.9, 127.0.0.1"},
		{config.ForwardedOff, "10.9.9.9, unknown"},
		{config.ForwardedTransparent, "10.9.9.9"},
		{config.ForwardedDelete, ""},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			o := &echoOrigin{}
			origin := startOrigin(t, o)
			s := startProxy(t, func(c *config.Config) { c.ForwardedFor = tc.mode })
			rc := dialRaw(t, s)
			rc.send("GET " + origin + "/ HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 10.9.9.9\r\n\r\n")
			_ = rc.response("GET")
			if got := o.last().Header.Get("X-Forwarded-For"); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// Origin connections are pooled and reused: sequential requests, with
// bodies of known length, chunked, and empty, travel over one connection.
func TestOriginKeepAlive(t *testing.T) {
	var mu sync.Mutex
	conns := 0
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/chunked":
				io.WriteString(w, "a")
				w.(http.Flusher).Flush()
				io.WriteString(w, "b")
			case "/empty":
				w.WriteHeader(204)
			default:
				io.WriteString(w, "sized")
			}
		}),
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				mu.Lock()
				conns++
				mu.Unlock()
			}
		},
	}
	go srv.Serve(ln)
	defer srv.Close()
	origin := "http://" + ln.Addr().String()
	s := startProxy(t, nil)
	rc := dialRaw(t, s)
	for i := 0; i < 10; i++ {
		for _, p := range []string{"/sized", "/chunked", "/empty"} {
			rc.send("GET " + origin + p + " HTTP/1.1\r\nHost: h\r\n\r\n")
			_ = rc.response("GET")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if conns != 1 {
		t.Errorf("origin saw %d connections for 30 sequential requests, want 1", conns)
	}
}

// engine.pin_cpus: each event loop pins its own thread the first time it
// serves a connection, to the CPUs given in order.
func TestPinLoops(t *testing.T) {
	var mu sync.Mutex
	var pinned []int
	origin := startOrigin(t, &echoOrigin{})
	s := startProxyWith(t, nil, func(s *Server) {
		s.PinLoops([]int{7, 9}, func(cpu int) error {
			mu.Lock()
			pinned = append(pinned, cpu)
			mu.Unlock()
			return nil
		})
	})
	for i := 0; i < 20; i++ {
		rc := dialRaw(t, s)
		rc.send("GET " + origin + "/ HTTP/1.1\r\nHost: h\r\n\r\n")
		_ = rc.response("GET")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(pinned) == 0 || len(pinned) > 2 {
		t.Fatalf("pinned %v: want one pin per event loop that served", pinned)
	}
	for i, cpu := range pinned {
		if want := []int{7, 9}[i]; cpu != want {
			t.Errorf("loop %d pinned to %d, want %d", i, cpu, want)
		}
	}
}
