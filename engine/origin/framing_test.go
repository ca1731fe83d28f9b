package origin

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"edgeproxy/codec"
)

// injected is what a misbehaving origin hopes will be read as the answer to
// the next request on the connection.
const injected = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nCache-Control: max-age=3600\r\n\r\nevil"

// Issue 12: bytes an origin sends past the end of a response (after HEAD,
// 204 or 304, or past Content-Length), in the same write, in a later
// segment, or beyond 4 KiB, never answer another request: the connection
// is closed, and the next request gets its own response.
func TestBytesPastTheResponseNeverReachAnotherRequest(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method string
		resp   string
		status int
		body   string
	}{
		{"body after HEAD", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody", 200, ""},
		{"body after 204", "GET", "HTTP/1.1 204 No Content\r\nContent-Length: 4\r\n\r\nbody", 204, ""},
		{"chunked body after 304", "GET", "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n", 304, ""},
		{"body past 4 KiB after HEAD", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + strings.Repeat("x", 4200), 200, ""},
		{"excess past Content-Length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, "ok"},
		{"excess past 4 KiB body", "GET", ok(strings.Repeat("y", 5000)), 200, strings.Repeat("y", 5000)},
		{"excess past last chunk", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", 200, "ok"},
	} {
		for _, later := range []bool{false, true} {
			name := tc.name + "/same write"
			if later {
				name = tc.name + "/later segment"
			}
			t.Run(name, func(t *testing.T) {
				h := newHarness(t, false, nil)
				inject := make(chan struct{})
				o := startRawOrigin(t, func(c *rawConn) {
					if c.n > 0 {
						serveOK(c)
						return
					}
					if line, _ := c.readRequest(); line == "" {
						return
					}
					if later {
						c.write(tc.resp)
						<-inject
						c.write(injected)
					} else {
						c.write(tc.resp + injected)
					}
					for { // a reused connection would get "evil" again
						if line, _ := c.readRequest(); line == "" {
							return
						}
						c.write(injected)
					}
				})
				h.get(o.addr, tc.method, "/first", tc.status, tc.body)
				close(inject)
				eventually(t, "the connection to be discarded", func() bool { return h.stats.Discards.Load() == 1 })
				for _, p := range []string{"/other", "/third"} {
					h.get(o.addr, "GET", p, 200, p)
				}
				if got := o.conns.Load(); got != 2 {
					t.Fatalf("origin connections: got %d, want 2", got)
				}
			})
		}
	}
}

// Issue 12: a response with both Content-Length and Transfer-Encoding is an
// error, and its connection is closed.
func TestMalformedResponses(t *testing.T) {
	for _, tc := range []struct {
		name string
		resp string
		want error
	}{
		{"CL and TE", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nevil\r\n0\r\n\r\n", codec.ErrLengthAndChunked},
		{"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nevil!", codec.ErrDuplicateLength},
		{"obs-fold", "HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 0\r\n\r\n", codec.ErrObsFold},
		{"bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", codec.ErrBareLF},
		{"not HTTP", "SSH-2.0-OpenSSH_9.2\r\n", codec.ErrStatusLine},
		{"head over 64 KiB", "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("b", 65<<10) + "\r\n\r\n", codec.ErrResponseHeaderTooLarge},
		{"bad chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", codec.ErrChunk},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, false, nil)
			o := startRawOrigin(t, func(c *rawConn) {
				if c.n > 0 {
					serveOK(c)
					return
				}
				c.readRequest()
				c.write(tc.resp)
				_, _ = io.Copy(io.Discard, c.br)
			})
			rec := h.fetch(request(o.addr, "GET", "/"))
			if !errors.Is(rec.err, ErrMalformed) || !errors.Is(rec.err, tc.want) {
				t.Fatalf("got %v, want %v and %v", rec.err, ErrMalformed, tc.want)
			}
			h.get(o.addr, "GET", "/next", 200, "/next")
			if got := o.conns.Load(); got != 2 {
				t.Fatalf("origin connections: got %d, want 2", got)
			}
		})
	}
}

// Issue 12: heads of 8 KiB and 60 KiB pass, whole and trickled.
func TestLargeResponseHeads(t *testing.T) {
	h := newHarness(t, false, nil)
	for _, size := range []int{8 << 10, 60 << 10} {
		var sb strings.Builder
		sb.WriteString("HTTP/1.1 200 OK\r\n")
		for sb.Len() < size {
			sb.WriteString("Set-Cookie: c=" + strings.Repeat("v", 500) + "\r\n")
		}
		head := sb.String() + "Content-Length: 2\r\n\r\n"
		o := startRawOrigin(t, func(c *rawConn) {
			for {
				if line, _ := c.readRequest(); line == "" {
					return
				}
				for i := 0; i < len(head); i += 1000 { // in pieces
					c.write(head[i:min(len(head), i+1000)])
				}
				c.write("ok")
			}
		})
		h.get(o.addr, "GET", "/", 200, "ok")
		h.get(o.addr, "GET", "/", 200, "ok")
	}
}

// Bodies delimited by close end at the close and leave no connection to
// reuse; a body cut short by a close is an error.
func TestBodyEnds(t *testing.T) {
	h := newHarness(t, false, nil)
	for _, tc := range []struct {
		name, resp, body string
		want             error
	}{
		{"close delimited", "HTTP/1.1 200 OK\r\n\r\nuntil the end", "until the end", nil},
		{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc", "abc", nil},
		{"truncated length", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "abc", ErrClosed},
		{"truncated chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", "abc", ErrClosed},
		{"connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc", "abc", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := startRawOrigin(t, func(c *rawConn) {
				c.readRequest()
				c.write(tc.resp)
			})
			rec := h.fetch(request(o.addr, "GET", "/"))
			if !errors.Is(rec.err, tc.want) || (tc.want == nil && rec.err != nil) {
				t.Fatalf("got %v, want %v", rec.err, tc.want)
			}
			if rec.body.String() != tc.body {
				t.Fatalf("body: got %q, want %q", rec.body.String(), tc.body)
			}
			if got := h.idle(o.addr); got != 0 {
				t.Fatalf("idle: got %d, want 0", got)
			}
		})
	}
}

// 1xx: interim responses reach the handler before the final one; a 101 is
// accepted only when the request asked to upgrade, and then relays both
// ways.
func TestInterimResponses(t *testing.T) {
	h := newHarness(t, false, nil)
	o := startRawOrigin(t, func(c *rawConn) {
		for {
			line, _ := c.readRequest()
			switch path(line) {
			case "":
				return
			case "/hints":
				c.write("HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n")
				c.write("HTTP/1.1 100 Continue\r\n\r\n" + ok("page"))
			case "/upgrade":
				c.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nhello")
				b := make([]byte, 4)
				if _, err := io.ReadFull(c.br, b); err != nil {
					return
				}
				c.write("echo:" + string(b))
				return
			}
		}
	})
	rec := h.fetch(request(o.addr, "GET", "/hints"))
	if rec.err != nil || len(rec.heads) != 3 || rec.heads[0] != 103 || rec.heads[1] != 100 || rec.heads[2] != 200 {
		t.Fatalf("got heads %v err %v, want [103 100 200]", rec.heads, rec.err)
	}
	if rec.body.String() != "page" || rec.fields[0] != "Link: </s.css>; rel=preload" {
		t.Fatalf("got body %q fields %q", rec.body.String(), rec.fields)
	}
	if rec := h.fetch(request(o.addr, "GET", "/upgrade")); !errors.Is(rec.err, ErrUpgrade) {
		t.Fatalf("101 to a plain GET: got %v, want %v", rec.err, ErrUpgrade)
	}
	ex := request(o.addr, "GET", "/upgrade")
	ex.Upgrade = true
	rec = &recorder{done: make(chan struct{})}
	rec.onBody = func(ex *Exchange, data []byte) error {
		if string(data) == "hello" {
			return ex.Write([]byte("ping"))
		}
		return nil
	}
	ex.Handler = rec
	h.fetch(ex)
	if rec.err != nil || rec.body.String() != "helloecho:ping" {
		t.Fatalf("upgraded: got %q, %v; want %q", rec.body.String(), rec.err, "helloecho:ping")
	}
}

// Expect: 100-continue holds the body back until the origin's 100; a final
// answer without it leaves the body unsent and the connection unreused.
func TestExpectContinue(t *testing.T) {
	h := newHarness(t, false, nil)
	o := startRawOrigin(t, func(c *rawConn) {
		for {
			line := ""
			for { // the head, without its body
				s, err := c.br.ReadString('\n')
				if err != nil {
					return
				}
				if line == "" {
					line = s
					c.o.mu.Lock()
					c.o.requests = append(c.o.requests, strings.TrimSpace(s))
					c.o.mu.Unlock()
				}
				if s == "\r\n" {
					break
				}
			}
			_ = c.nc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			if _, err := c.br.Peek(1); err == nil {
				c.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 14\r\n\r\nbody too early")
				return
			}
			_ = c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
			if strings.Contains(line, "/refuse") {
				c.write("HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n")
				continue
			}
			c.write("HTTP/1.1 100 Continue\r\n\r\n")
			b := make([]byte, 5)
			if _, err := io.ReadFull(c.br, b); err != nil {
				return
			}
			c.write(ok("got " + string(b)))
		}
	})
	post := func(p string) *Exchange {
		return &Exchange{
			Addr:           o.addr,
			Head:           []byte("PUT " + p + " HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"),
			Body:           []byte("hello"),
			ExpectContinue: true,
		}
	}
	rec := h.fetch(post("/put"))
	if rec.err != nil || len(rec.heads) != 2 || rec.heads[0] != 100 || rec.body.String() != "got hello" {
		t.Fatalf("got heads %v body %q err %v", rec.heads, rec.body.String(), rec.err)
	}
	if got := h.idle(o.addr); got != 1 {
		t.Fatalf("idle after 100-continue: got %d, want 1", got)
	}
	rec = h.fetch(post("/refuse"))
	if rec.err != nil || len(rec.heads) != 1 || rec.heads[0] != 417 {
		t.Fatalf("got heads %v err %v, want [417]", rec.heads, rec.err)
	}
	if got := h.idle(o.addr); got != 0 {
		t.Fatalf("idle after 417: got %d, want 0", got)
	}
}
