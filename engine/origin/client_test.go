package origin

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// newTestClient is a Client dialing plain TCP, with cfg adjusted by mutate.
func newTestClient(mutate func(*Config)) *Client {
	cfg := Config{Dial: func(addr string) (net.Conn, error) { return net.Dial("tcp", addr) }}
	if mutate != nil {
		mutate(&cfg)
	}
	return NewClient(cfg)
}

// clientDo runs ex through c with a new recorder.
func clientDo(c *Client, ex *Exchange) *recorder {
	rec := &recorder{done: make(chan struct{})}
	if ex.Handler == nil {
		ex.Handler = rec
	} else {
		rec = ex.Handler.(*recorder)
	}
	c.Do(ex)
	return rec
}

func clientGet(t *testing.T, c *Client, addr, method, path string, status int, body string) {
	t.Helper()
	rec := clientDo(c, request(addr, method, path))
	if rec.err != nil {
		t.Fatalf("%s %s: %v", method, path, rec.err)
	}
	if got := rec.heads[len(rec.heads)-1]; got != status || rec.body.String() != body {
		t.Fatalf("%s %s: got %d %q, want %d %q", method, path, got, rec.body.String(), status, body)
	}
}

// Issue 12: the Client reuses a connection only when nothing arrived on it
// while idle; bytes past a response, whenever they come, close it.
func TestClientStrayBytes(t *testing.T) {
	for _, tc := range []struct {
		name, method, resp string
		later              bool
	}{
		{"HEAD with body", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody", false},
		{"204 with body, later", "GET", "HTTP/1.1 204 No Content\r\n\r\n", true},
		{"excess past Content-Length", "GET", ok("ok") + "junk", false},
		{"excess later", "GET", ok("ok"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			answered, injected := make(chan struct{}), make(chan struct{})
			o := startRawOrigin(t, func(c *rawConn) {
				if c.n > 0 {
					serveOK(c)
					return
				}
				if line, _ := c.readRequest(); line == "" {
					return
				}
				c.write(tc.resp)
				if tc.later {
					<-answered // the connection is idle in the pool now
					c.write(ok("evil"))
				}
				close(injected)
				for {
					if line, _ := c.readRequest(); line == "" {
						return
					}
					c.write(ok("evil"))
				}
			})
			var stats Stats
			c := newTestClient(func(cfg *Config) { cfg.Stats = &stats })
			defer c.Close()
			rec := clientDo(c, request(o.addr, tc.method, "/first"))
			if rec.err != nil {
				t.Fatal(rec.err)
			}
			close(answered)
			<-injected
			clientGet(t, c, o.addr, "GET", "/second", 200, "/second")
			clientGet(t, c, o.addr, "GET", "/third", 200, "/third")
			if got := stats.Discards.Load(); got != 1 {
				t.Fatalf("discards: got %d, want 1", got)
			}
			if got := o.conns.Load(); got != 2 {
				t.Fatalf("connections: got %d, want 2", got)
			}
		})
	}
}

// A streamed request body arrives whole, with Content-Length or chunked,
// and the connection is reused after it.
func TestClientStreamedBody(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, strings.Join(r.TransferEncoding, ",")+":"+string(b))
		mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	var stats Stats
	c := newTestClient(func(cfg *Config) { cfg.Stats = &stats })
	defer c.Close()
	body := strings.Repeat("x", 100000)
	for _, chunked := range []bool{false, true} {
		head := "PUT /up HTTP/1.1\r\nHost: " + addr + "\r\n"
		ex := &Exchange{Addr: addr, BodyStream: strings.NewReader(body), BodyLength: int64(len(body))}
		if chunked {
			head += "Transfer-Encoding: chunked\r\n"
			ex.BodyLength = -1
		} else {
			head += "Content-Length: 100000\r\n"
		}
		ex.Head = []byte(head + "\r\n")
		rec := clientDo(c, ex)
		if rec.err != nil || rec.body.String() != "ok" {
			t.Fatalf("chunked=%v: got %v %q", chunked, rec.err, rec.body.String())
		}
	}
	want := []string{":" + body, "chunked:" + body}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("request %d: got %d bytes (%.10q), want %d", i, len(got[i]), got[i], len(want[i]))
		}
	}
	if n := stats.Dials.Load(); n != 1 {
		t.Fatalf("dials: got %d, want 1", n)
	}
}

// Expect: 100-continue holds the body until the origin's 100; an origin
// that answers at once gets no body, and its connection is not reused.
func TestClientExpectContinue(t *testing.T) {
	o := startRawOrigin(t, func(c *rawConn) {
		for {
			line, _ := c.readHeadOnly()
			switch {
			case line == "":
				return
			case strings.Contains(line, "/refuse"):
				c.write("HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n")
			default:
				c.write("HTTP/1.1 100 Continue\r\n\r\n")
				b := make([]byte, 5)
				if _, err := io.ReadFull(c.br, b); err != nil {
					return
				}
				c.write(ok("got " + string(b)))
			}
		}
	})
	c := newTestClient(nil)
	defer c.Close()
	for _, tc := range []struct {
		path   string
		heads  []int
		body   string
		dialed int32
	}{
		{"/up", []int{100, 200}, "got hello", 1},
		{"/refuse", []int{417}, "", 1},
		{"/up", []int{100, 200}, "got hello", 2}, // the refused one was not reused
	} {
		ex := &Exchange{
			Addr:           o.addr,
			Head:           []byte("POST " + tc.path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"),
			Body:           []byte("hello"),
			ExpectContinue: true,
		}
		rec := clientDo(c, ex)
		if rec.err != nil || rec.body.String() != tc.body || len(rec.heads) != len(tc.heads) || rec.heads[0] != tc.heads[0] {
			t.Fatalf("%s: got %v %v %q, want %v %q", tc.path, rec.err, rec.heads, rec.body.String(), tc.heads, tc.body)
		}
		if got := o.conns.Load(); got != tc.dialed {
			t.Fatalf("%s: connections got %d, want %d", tc.path, got, tc.dialed)
		}
	}
}

// readHeadOnly reads a request head and leaves its body unread.
func (c *rawConn) readHeadOnly() (line string, err error) {
	for i := 0; ; i++ {
		s, err := c.br.ReadString('\n')
		if err != nil {
			return "", err
		}
		if i == 0 {
			line = s
		}
		if s == "\r\n" {
			return line, nil
		}
	}
}

// The origin's Keep-Alive timeout shortens a connection's idle life; a head
// that does not come within HeadTimeout ends the exchange.
func TestClientLifetimeAndHeadTimeout(t *testing.T) {
	o := startRawOrigin(t, func(c *rawConn) {
		for {
			line, _ := c.readRequest()
			switch {
			case line == "":
				return
			case strings.Contains(line, "/silent"):
				c.readRequest()
				return
			}
			c.write("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=2\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	clk := &clock{t: time.Unix(1e9, 0)}
	c := newTestClient(func(cfg *Config) {
		cfg.Now = clk.Now
		cfg.HeadTimeout = 100 * time.Millisecond
	})
	defer c.Close()
	clientGet(t, c, o.addr, "GET", "/a", 200, "ok")
	clk.advance(500 * time.Millisecond)
	clientGet(t, c, o.addr, "GET", "/b", 200, "ok")
	if got := o.conns.Load(); got != 1 {
		t.Fatalf("connections: got %d, want 1", got)
	}
	clk.advance(1500 * time.Millisecond) // past timeout=2 less its margin
	clientGet(t, c, o.addr, "GET", "/c", 200, "ok")
	if got := o.conns.Load(); got != 2 {
		t.Fatalf("connections: got %d, want 2", got)
	}
	rec := clientDo(c, request(o.addr, "GET", "/silent"))
	if !errors.Is(rec.err, ErrHeadTimeout) {
		t.Fatalf("got %v, want %v", rec.err, ErrHeadTimeout)
	}
}
