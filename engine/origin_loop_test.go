package engine

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"edgeproxy/engine/config"
)

// Issue 12: with the cache off, misses are fetched on the event loop by the
// origin package. These tests drive the proxy against an origin that writes
// exact bytes, misbehaving on purpose.

// noCache turns the cache off, so every request takes the loop path, and
// runs one event loop, so every request meets the same origin pool.
func noCache(c *config.Config) {
	off := false
	c.Cache.Enabled = &off
	c.EventLoops = 1
}

// get sends one request through the proxy on a new connection.
func loopGet(t *testing.T, s *Server, method, url string) *http.Response {
	t.Helper()
	rc := dialRaw(t, s)
	rc.send(method + " " + url + " HTTP/1.1\r\nHost: x\r\n\r\n")
	return rc.response(method)
}

const injectedResponse = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil"

// Issue 12: a body after HEAD, 204 or 304, or bytes past Content-Length, in
// the same write, a later segment or past 4 KiB, never answer another URL.
func TestLoopBytesPastResponse(t *testing.T) {
	s := startProxy(t, noCache)
	for _, tc := range []struct {
		name, method, resp string
		status             int
		body               string
	}{
		{"HEAD with body", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody", 200, ""},
		{"HEAD with body past 4 KiB", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + strings.Repeat("x", 4500), 200, ""},
		{"204 with body", "GET", "HTTP/1.1 204 No Content\r\nContent-Length: 4\r\n\r\nbody", 204, ""},
		{"304 with chunked body", "GET", "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n", 304, ""},
		{"excess past Content-Length", "GET", okResponse("ok"), 200, "ok"},
	} {
		for _, later := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/later=%v", tc.name, later), func(t *testing.T) {
				inject := make(chan struct{})
				o := startScriptOrigin(t, func(c *scriptConn) {
					if c.n > 0 {
						echoPaths(c)
						return
					}
					if p, _ := c.read(); p == "" {
						return
					}
					if later {
						c.write(tc.resp)
						<-inject
						c.write(injectedResponse)
					} else {
						c.write(tc.resp + injectedResponse)
					}
					for {
						if p, _ := c.read(); p == "" {
							return
						}
						c.write(injectedResponse)
					}
				})
				resp := loopGet(t, s, tc.method, "http://"+o.addr+"/first")
				if resp.StatusCode != tc.status || bodyOf(t, resp) != tc.body {
					t.Fatalf("first: got %d, want %d %q", resp.StatusCode, tc.status, tc.body)
				}
				close(inject)
				if later {
					// The bytes arrive on the idle pooled connection.
					waitFor(t, "the poisoned connection to close", func() bool {
						return s.originStats.Discards.Load() > 0 && s.originStats.Open.Load() == 0
					})
				}
				s.originStats.Discards.Store(0)
				for _, p := range []string{"/other", "/third"} {
					resp := loopGet(t, s, "GET", "http://"+o.addr+p)
					if got := bodyOf(t, resp); resp.StatusCode != 200 || got != p {
						t.Fatalf("%s: got %d %q, want 200 %q", p, resp.StatusCode, got, p)
					}
				}
			})
		}
	}
}

// waitFor polls cond; a hang guard, not a timing assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// Issue 12: POST is never sent twice; GET is retried once on a fresh
// connection when its pooled connection closes unanswered.
func TestLoopRetries(t *testing.T) {
	s := startProxy(t, noCache)
	o := startScriptOrigin(t, func(c *scriptConn) {
		if c.n%2 == 1 {
			echoPaths(c)
			return
		}
		if p, _ := c.read(); p == "" {
			return
		}
		c.write(okResponse("first"))
		c.read() // closed unanswered
	})
	base := "http://" + o.addr
	if got := bodyOf(t, loopGet(t, s, "GET", base+"/a")); got != "first" {
		t.Fatalf("got %q", got)
	}
	if resp := loopGet(t, s, "GET", base+"/retried"); resp.StatusCode != 200 || bodyOf(t, resp) != "/retried" {
		t.Fatalf("GET: got %d", resp.StatusCode)
	}
	if got := s.originStats.Retries.Load(); got != 1 {
		t.Fatalf("retries: got %d, want 1", got)
	}
	// conn 1 is now pooled and well behaved; use it up so a bad one is next.
	o2 := startScriptOrigin(t, func(c *scriptConn) {
		if p, _ := c.read(); p == "" {
			return
		}
		c.write(okResponse("first"))
		c.read()
	})
	base = "http://" + o2.addr
	loopGet(t, s, "GET", base+"/a")
	rc := dialRaw(t, s)
	rc.send("POST " + base + "/form HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\na=b")
	if resp := rc.response("POST"); resp.StatusCode != 502 {
		t.Fatalf("POST: got %d, want 502", resp.StatusCode)
	}
	posts := 0
	for _, l := range o2.seen() {
		if strings.HasPrefix(l, "POST") {
			posts++
		}
	}
	if posts != 1 {
		t.Fatalf("origin saw %d POSTs, want 1", posts)
	}
}

// Issue 12: 8 KiB and 60 KiB response heads pass; CL+TE gets 502.
func TestLoopHeads(t *testing.T) {
	s := startProxy(t, noCache)
	o := startScriptOrigin(t, func(c *scriptConn) {
		for {
			p, _ := c.read()
			switch {
			case p == "":
				return
			case strings.HasPrefix(p, "/size/"):
				n, _ := strconv.Atoi(p[len("/size/"):])
				var b strings.Builder
				b.WriteString("HTTP/1.1 200 OK\r\n")
				for b.Len() < n {
					b.WriteString("X-Pad: " + strings.Repeat("p", 1000) + "\r\n")
				}
				c.write(b.String() + "Content-Length: 2\r\n\r\nok")
			case p == "/clte":
				c.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nevil\r\n0\r\n\r\n")
				return
			}
		}
	})
	for _, n := range []int{8 << 10, 60 << 10} {
		resp := loopGet(t, s, "GET", fmt.Sprintf("http://%s/size/%d", o.addr, n))
		if resp.StatusCode != 200 || bodyOf(t, resp) != "ok" {
			t.Fatalf("%d-byte head: got %d", n, resp.StatusCode)
		}
	}
	if resp := loopGet(t, s, "GET", "http://"+o.addr+"/clte"); resp.StatusCode != 502 {
		t.Fatalf("CL+TE: got %d, want 502", resp.StatusCode)
	}
}

// Issue 12: 103 reaches curl through the proxy, before the final response.
func TestLoopEarlyHintsReachCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed (make test-deps)")
	}
	s := startProxy(t, noCache)
	o := startScriptOrigin(t, func(c *scriptConn) {
		if p, _ := c.read(); p == "" {
			return
		}
		c.write("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
		c.write(okResponse("page"))
	})
	out, err := exec.Command("curl", "-sv", "-x", "http://"+s.Addr(), "http://"+o.addr+"/").CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v\n%s", err, out)
	}
	i, j := bytes.Index(out, []byte("< HTTP/1.1 103")), bytes.Index(out, []byte("< HTTP/1.1 200"))
	if i < 0 || j < i || !bytes.Contains(out, []byte("< Link: </style.css>; rel=preload")) || !bytes.HasSuffix(out, []byte("page")) {
		t.Fatalf("curl did not see 103 then 200:\n%s", out)
	}
}

// Bodies too large for the loop leave it, with length or chunked framing,
// and arrive whole; a keep-alive pause of the origin causes no 502.
func TestLoopLargeBodiesAndKeepAlive(t *testing.T) {
	s := startProxy(t, noCache)
	big := strings.Repeat("0123456789abcdef", 1<<18) // 4 MiB
	o := startScriptOrigin(t, func(c *scriptConn) {
		for {
			_ = c.nc.SetReadDeadline(time.Now().Add(time.Second))
			p, _ := c.read()
			switch p {
			case "":
				return
			case "/length":
				c.write(okResponse(big))
			case "/chunked":
				c.write("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nTransfer-Encoding: chunked\r\n\r\n")
				for i := 0; i < len(big); i += 100000 {
					part := big[i:min(len(big), i+100000)]
					c.write(strconv.FormatInt(int64(len(part)), 16) + "\r\n" + part + "\r\n")
				}
				c.write("0\r\n\r\n")
			default:
				c.write("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 2\r\n\r\nok")
			}
		}
	})
	client := proxyClient(s)
	for _, p := range []string{"/length", "/chunked"} {
		resp, err := client.Get("http://" + o.addr + p)
		if err != nil {
			t.Fatal(err)
		}
		if got := bodyOf(t, resp); got != big {
			t.Fatalf("%s: got %d bytes, want %d", p, len(got), len(big))
		}
	}
	for round := 0; round < 2; round++ {
		for i := 0; i < 5; i++ {
			resp, err := client.Get("http://" + o.addr + "/small")
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || bodyOf(t, resp) != "ok" {
				t.Fatalf("round %d: got %d", round, resp.StatusCode)
			}
		}
		time.Sleep(1100 * time.Millisecond) // past the origin's idle close
	}
}

// Issue 11's destination check runs on the loop path too, on the resolved
// address at dial time: a name that resolves to loopback is refused with
// 403 naming the key, and never connected to.
func TestLoopDestinationCheck(t *testing.T) {
	var calls atomic.Int64
	s := startProxyWith(t, func(c *config.Config) {
		noCache(c)
		c.ACL.AllowLocalDestinations = false
	}, fakeNames(&calls))
	o := startScriptOrigin(t, echoPaths)
	_, port, _ := net.SplitHostPort(o.addr)
	resp := loopGet(t, s, "GET", "http://origin.test:"+port+"/")
	if body := bodyOf(t, resp); resp.StatusCode != 403 || !strings.Contains(body, "acl.allow_local_destinations") {
		t.Fatalf("got %d %q, want 403 naming acl.allow_local_destinations", resp.StatusCode, body)
	}
	if got := o.conns.Load(); got != 0 {
		t.Fatalf("origin connections: got %d, want 0", got)
	}
}

// Expect: 100-continue works end to end on the loop path: the client gets
// 100, sends its body, and the origin receives it. An HTTP/1.0 client never
// sees an origin's 103 (RFC 9110 §15.2).
func TestLoopExpectContinueAndInterimTo10(t *testing.T) {
	s := startProxy(t, noCache)
	o := startScriptOrigin(t, func(c *scriptConn) {
		for {
			p, body := c.read()
			if p == "" {
				return
			}
			c.write("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n")
			c.write(okResponse("got " + body))
		}
	})
	rc := dialRaw(t, s)
	rc.send("POST http://" + o.addr + "/up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	line, err := rc.br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("got %q, %v; want 100 Continue", line, err)
	}
	if blank, _ := rc.br.ReadString('\n'); blank != "\r\n" {
		t.Fatalf("got %q after 100", blank)
	}
	rc.send("hello")
	resp := rc.response("POST")
	if resp.StatusCode == 103 {
		resp = rc.response("POST")
	}
	if got := bodyOf(t, resp); resp.StatusCode != 200 || got != "got hello" {
		t.Fatalf("got %d %q, want 200 %q", resp.StatusCode, got, "got hello")
	}

	rc = dialRaw(t, s)
	rc.send("GET http://" + o.addr + "/old HTTP/1.0\r\n\r\n")
	all, _ := io.ReadAll(rc.br)
	if bytes.Contains(all, []byte(" 103 ")) || !bytes.HasPrefix(all, []byte("HTTP/1.1 200")) {
		t.Fatalf("HTTP/1.0 client got %q", all)
	}
}
