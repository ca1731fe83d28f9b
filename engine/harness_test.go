package engine

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"edgeproxy/engine/config"
)

// startProxy runs a Server on a free loopback port until the test ends.
func startProxy(t testing.TB, mutate func(*config.Config)) *Server {
	t.Helper()
	return startProxyWith(t, mutate, nil)
}

// startProxyWith is startProxy with a hook that adjusts the Server before it
// serves.
func startProxyWith(t testing.TB, mutate func(*config.Config), before func(*Server)) *Server {
	t.Helper()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.Admin = config.AdminOff
	cfg.Name = "edgeproxy-test"
	cfg.EventLoops = 2
	cfg.Log.Path = config.LogOff
	// Test origins listen on loopback, which the proxy refuses by default;
	// tests of that refusal turn it back off in mutate.
	cfg.ACL.AllowLocalDestinations = true
	if mutate != nil {
		mutate(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	level := slog.LevelWarn
	if os.Getenv("EDGEPROXY_TEST_DEBUG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	s, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if before != nil {
		before(s)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	select {
	case <-s.Ready():
	case err := <-errc:
		t.Fatalf("Serve: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("proxy did not start")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		<-errc
	})
	return s
}

// startOrigin runs a real HTTP server on a free loopback port.
func startOrigin(t testing.TB, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// proxyClient is a net/http client that sends everything through s.
func proxyClient(s *Server) *http.Client {
	u, _ := url.Parse("http://" + s.Addr())
	return &http.Client{
		Transport: &http.Transport{Proxy: http.ProxyURL(u), DisableCompression: true},
		Timeout:   30 * time.Second,
	}
}

// rawConn dials the proxy for hand-written requests.
type rawConn struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t testing.TB, s *Server) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (r *rawConn) send(s string) {
	r.t.Helper()
	if _, err := io.WriteString(r.c, s); err != nil {
		r.t.Fatal(err)
	}
}

// response reads one response; method is the request's, for HEAD framing.
func (r *rawConn) response(method string) *http.Response {
	r.t.Helper()
	resp, err := http.ReadResponse(r.br, &http.Request{Method: method})
	if err != nil {
		r.t.Fatalf("reading response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatalf("reading body: %v", err)
	}
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	return resp
}

// closed reports whether the proxy closed the connection (EOF or reset
// within a second, with no further bytes).
func (r *rawConn) closed() bool {
	_ = r.c.SetReadDeadline(time.Now().Add(2 * time.Second))
	b, err := r.br.ReadByte()
	if err == nil {
		r.t.Logf("unexpected byte after response: %q", b)
		return false
	}
	return !isTimeout(err)
}

func bodyOf(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return string(b)
}

// hostOf strips the scheme from an origin URL.
func hostOf(origin string) string { return strings.TrimPrefix(origin, "http://") }
