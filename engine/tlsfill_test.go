package engine

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"edgeproxy/engine/config"
)

// Issue 12: cache fills of https:// URLs run on a worker through the
// worker-side origin client with the loop's cache logic (fill_worker.go).
// These tests drive them against a crypto/tls origin that misbehaves on
// purpose (direct_test.go's test CA, trusted through SSL_CERT_FILE).

// tlsGet sends a GET or HEAD for an https:// url through the proxy on a new
// connection and returns the response with its body read whole.
func tlsGet(t *testing.T, s *Server, method, url string) (*http.Response, string) {
	t.Helper()
	host := strings.TrimPrefix(url, "https://")
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	rc := dialRaw(t, s)
	rc.send(method + " " + url + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n")
	resp := rc.response(method)
	return resp, bodyOf(t, resp)
}

// tlsGetErr is tlsGet for a response that may be cut short: err is what
// reading the head or the body returned.
func tlsGetErr(s *Server, url string) (string, error) {
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	host := strings.TrimPrefix(url, "https://")
	host, _, _ = strings.Cut(host, "/")
	if _, err := io.WriteString(c, "GET "+url+" HTTP/1.1\r\nHost: "+host+"\r\n\r\n"); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "GET"})
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// wantTLSStoredRight asks for an https url twice: a miss, then a hit, both
// with body.
func wantTLSStoredRight(t *testing.T, s *Server, url, body string) {
	t.Helper()
	resp, got := tlsGet(t, s, "GET", url)
	if resp.StatusCode != 200 || got != body {
		t.Fatalf("%s: got %d %q, want 200 %q", url, resp.StatusCode, got, body)
	}
	resp, got = tlsGet(t, s, "GET", url)
	if resp.StatusCode != 200 || got != body {
		t.Fatalf("%s again: got %d %q, want 200 %q", url, resp.StatusCode, got, body)
	}
	wantHit(t, resp, url+" again")
}

// chunkedCacheable is cacheable(body) sent chunked, in pieces of at most
// 16 KiB.
func chunkedCacheable(body string) string {
	var b strings.Builder
	b.WriteString("HTTP/1.1 200 OK\r\nCache-Control: max-age=3600\r\nTransfer-Encoding: chunked\r\n\r\n")
	for len(body) > 0 {
		n := min(len(body), 16<<10)
		b.WriteString(strconv.FormatInt(int64(n), 16) + "\r\n" + body[:n] + "\r\n")
		body = body[n:]
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

// Issue 12: a cacheable https:// response is stored on its way to the
// client, whatever its framing and size, and the next request is a HIT that
// does not reach the origin.
func TestTLSFillStoredThenHit(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
		resp func(body string) string
	}{
		{"length", 1000, cacheable},
		{"length past the watermark", 600 << 10, cacheable},
		{"chunked", 1000, chunkedCacheable},
		{"chunked past the watermark", 600 << 10, chunkedCacheable},
		{"empty", 0, cacheable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startProxy(t, oneLoop)
			body := string(patternBody(tc.size, 11))
			var asked atomic.Int32
			o := startTLSScriptOrigin(t, func(c *scriptConn) {
				for {
					if p, _ := c.read(); p == "" {
						return
					}
					asked.Add(1)
					c.write(tc.resp(body))
				}
			})
			wantTLSStoredRight(t, s, "https://"+o.addr+"/obj", body)
			if n := asked.Load(); n != 1 {
				t.Errorf("origin asked %d times, want 1", n)
			}
		})
	}
}

// Issue 12: over TLS too, a body after HEAD, 204 or 304, or bytes past
// Content-Length, in the same write, in a later segment, or past 4 KiB,
// neither answer nor are stored for another cacheable https:// URL. (The
// fasthttp client that carried these fills read a HEAD's body past its
// 4 KiB buffer as the next response on the pooled connection.)
func TestTLSFillBytesPastResponse(t *testing.T) {
	const cc = "Cache-Control: max-age=3600\r\n"
	for _, tc := range []struct {
		name, method, resp string
		status             int
		body               string
	}{
		{"HEAD with body", "HEAD", "HTTP/1.1 200 OK\r\n" + cc + "Content-Length: 4\r\n\r\nbody", 200, ""},
		{"HEAD with body past 4 KiB", "HEAD", "HTTP/1.1 200 OK\r\n" + cc + "Content-Length: 5000\r\n\r\n" + strings.Repeat("x", 4500), 200, ""},
		{"204 with body", "GET", "HTTP/1.1 204 No Content\r\n" + cc + "Content-Length: 4\r\n\r\nbody", 204, ""},
		{"304 with chunked body", "GET", "HTTP/1.1 304 Not Modified\r\n" + cc + "Transfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n", 304, ""},
		{"excess past Content-Length", "GET", cacheable("ok"), 200, "ok"},
		{"excess past Content-Length past 4 KiB", "GET", cacheable(strings.Repeat("y", 5000)), 200, strings.Repeat("y", 5000)},
	} {
		for _, later := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/later=%v", tc.name, later), func(t *testing.T) {
				s := startProxy(t, oneLoop)
				inject, injected := make(chan struct{}), make(chan struct{})
				o := startTLSScriptOrigin(t, func(c *scriptConn) {
					if c.n > 0 {
						echoCacheable(c)
						return
					}
					if p, _ := c.read(); p == "" {
						return
					}
					if later {
						c.write(tc.resp)
						select {
						case <-inject:
						case <-time.After(10 * time.Second): // hang guard
						}
						c.write(injectedCacheable)
					} else {
						c.write(tc.resp + injectedCacheable)
					}
					close(injected)
					for {
						if p, _ := c.read(); p == "" {
							return
						}
						c.write(injectedCacheable)
					}
				})
				resp, got := tlsGet(t, s, tc.method, "https://"+o.addr+"/first")
				if resp.StatusCode != tc.status || got != tc.body {
					t.Fatalf("first: got %d %q, want %d %q", resp.StatusCode, got, tc.status, tc.body)
				}
				close(inject)
				<-injected
				if later {
					// The bytes arrive on the idle pooled connection, which
					// is closed when next taken.
					time.Sleep(20 * time.Millisecond)
				}
				for _, p := range []string{"/other", "/third"} {
					wantTLSStoredRight(t, s, "https://"+o.addr+p, p)
				}
			})
		}
	}
}

// Issue 12: an https:// body the origin cuts short reaches the client
// truncated and is never stored: the next request fetches again and gets
// the whole body.
func TestTLSFillTruncatedNotStored(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
		cut  func(body string) string
	}{
		{"length", 1000, func(b string) string {
			return "HTTP/1.1 200 OK\r\nCache-Control: max-age=3600\r\nContent-Length: " + strconv.Itoa(len(b)) + "\r\n\r\n" + b[:len(b)/2]
		}},
		{"length past the watermark", 1 << 20, func(b string) string {
			return "HTTP/1.1 200 OK\r\nCache-Control: max-age=3600\r\nContent-Length: " + strconv.Itoa(len(b)) + "\r\n\r\n" + b[:len(b)/2]
		}},
		{"chunked", 1000, func(b string) string {
			return "HTTP/1.1 200 OK\r\nCache-Control: max-age=3600\r\nTransfer-Encoding: chunked\r\n\r\n" +
				strconv.FormatInt(int64(len(b)/2), 16) + "\r\n" + b[:len(b)/2] + "\r\n"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startProxy(t, oneLoop)
			body := string(patternBody(tc.size, 7))
			o := startTLSScriptOrigin(t, func(c *scriptConn) {
				if p, _ := c.read(); p == "" {
					return
				}
				if c.n == 0 {
					c.write(tc.cut(body)) // and close
					return
				}
				c.write(cacheable(body))
			})
			url := "https://" + o.addr + "/cut"
			if got, err := tlsGetErr(s, url); err == nil && got == body {
				t.Fatalf("truncated fill: the client got the whole body")
			}
			resp, got := tlsGet(t, s, "GET", url)
			if resp.StatusCode != 200 || got != body {
				t.Fatalf("after a truncated fill: got %d, %d bytes, want 200 and the whole %d", resp.StatusCode, len(got), len(body))
			}
			if isHit(resp) {
				t.Fatal("after a truncated fill: a HIT, want the truncated body not stored")
			}
			if n := o.conns.Load(); n != 2 {
				t.Errorf("origin saw %d connections, want 2", n)
			}
			resp, got = tlsGet(t, s, "GET", url)
			if got != body {
				t.Fatalf("third: got %d bytes, want %d", len(got), len(body))
			}
			wantHit(t, resp, "third")
		})
	}
}

// Issue 12: an https:// revalidation answered 304 freshens the stored
// response, which the client gets whole; bytes the origin sends past the
// 304 reach no other URL. A stale-while-revalidate refresh in the
// background does the same.
func TestTLSFillRevalidation304Freshens(t *testing.T) {
	for _, swr := range []bool{false, true} {
		t.Run(fmt.Sprintf("background=%v", swr), func(t *testing.T) {
			s := startProxy(t, oneLoop)
			body := "body of v1"
			cc := "max-age=10"
			if swr {
				cc += ", stale-while-revalidate=3600"
			}
			var asked, revalidated atomic.Int32
			o := startTLSScriptOrigin(t, func(c *scriptConn) {
				for {
					p, _ := c.read()
					switch p {
					case "":
						return
					case "/v":
						if asked.Add(1) == 1 {
							c.write("HTTP/1.1 200 OK\r\nCache-Control: " + cc + "\r\nAge: 20\r\nETag: \"v1\"\r\nContent-Length: " +
								strconv.Itoa(len(body)) + "\r\n\r\n" + body)
							continue
						}
						revalidated.Add(1)
						c.write("HTTP/1.1 304 Not Modified\r\nCache-Control: max-age=3600\r\nETag: \"v1\"\r\n\r\n" + injectedCacheable)
					default:
						c.write(cacheable(p))
					}
				}
			})
			url := "https://" + o.addr + "/v"
			tlsGet(t, s, "GET", url)
			resp, got := tlsGet(t, s, "GET", url)
			if resp.StatusCode != 200 || got != body {
				t.Fatalf("revalidated: got %d %q, want 200 %q", resp.StatusCode, got, body)
			}
			if swr {
				wantHit(t, resp, "stale-while-revalidate")
				waitFor(t, "the refresh", func() bool { return revalidated.Load() == 1 && s.inflight.Load() == 0 })
			} else if cs := resp.Header.Get("Cache-Status"); !strings.Contains(cs, "fwd-status=304") {
				t.Errorf("revalidated: Cache-Status %q, want fwd-status=304", cs)
			}
			resp, got = tlsGet(t, s, "GET", url)
			if got != body {
				t.Fatalf("after the 304: got %q, want %q", got, body)
			}
			wantHit(t, resp, "after the 304")
			if ttl, ok := ttlOf(resp); !ok || ttl < 3000 {
				t.Errorf("after the 304: ttl %d, want the 304's max-age=3600", ttl)
			}
			if n := revalidated.Load(); n != 1 {
				t.Errorf("origin revalidated %d times, want 1", n)
			}
			wantTLSStoredRight(t, s, "https://"+o.addr+"/other", "/other")
		})
	}
}

// connectParent is a parent proxy that answers CONNECT by splicing to the
// target, and anything else (the health probe) with an empty 200.
type connectParent struct {
	addr     string
	ln       net.Listener
	mu       sync.Mutex
	connects []string // the CONNECT requests' heads
	probes   int
}

func startConnectParent(t *testing.T) *connectParent {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &connectParent{addr: ln.Addr().String(), ln: ln}
	var wg sync.WaitGroup
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
				br := bufio.NewReader(nc)
				var head strings.Builder
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					head.WriteString(line)
					if line == "\r\n" {
						break
					}
				}
				if !strings.HasPrefix(head.String(), "CONNECT ") {
					p.mu.Lock()
					p.probes++
					p.mu.Unlock()
					_, _ = io.WriteString(nc, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
					return
				}
				p.mu.Lock()
				p.connects = append(p.connects, head.String())
				p.mu.Unlock()
				target := strings.Fields(head.String())[1]
				oc, err := net.Dial("tcp", target)
				if err != nil {
					_, _ = io.WriteString(nc, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
					return
				}
				defer oc.Close()
				_ = oc.SetDeadline(time.Now().Add(20 * time.Second))
				_, _ = io.WriteString(nc, "HTTP/1.1 200 Connection established\r\n\r\n")
				go func() { _, _ = io.Copy(oc, br) }()
				_, _ = io.Copy(nc, oc)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return p
}

func (p *connectParent) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.connects...)
}

// Issue 12: with upstream.parents, an https:// fill runs through a CONNECT
// tunnel to the parent its URL hashes to, with the parent's credentials,
// and TLS to the origin inside; it is stored and then a HIT. A parent that
// cannot be reached is skipped and the next one takes the fill.
func TestTLSFillViaParent(t *testing.T) {
	o := startTLSScriptOrigin(t, echoCacheable)
	p1, p2 := startConnectParent(t), startConnectParent(t)
	s := startProxy(t, func(c *config.Config) {
		c.EventLoops = 1
		c.Upstream.Parents = []config.Parent{
			{Name: "p1", Address: p1.addr},
			{Name: "p2", Address: p2.addr, Username: "child", Password: "s3cret"},
		}
		c.Cluster.ProbeInterval = config.Duration(time.Hour)
	})
	waitFor(t, "the parents to be probed", func() bool {
		p1.mu.Lock()
		defer p1.mu.Unlock()
		p2.mu.Lock()
		defer p2.mu.Unlock()
		return p1.probes > 0 && p2.probes > 0
	})
	_ = p1.ln.Close() // gone since its probe
	u := ownedBy(t, "https://"+o.addr, []string{"p1", "p2"}, "p1")
	path := strings.TrimPrefix(u, "https://"+o.addr)
	wantTLSStoredRight(t, s, u, path)
	seen := p2.seen()
	if len(seen) != 1 || !strings.HasPrefix(seen[0], "CONNECT "+o.addr+" HTTP/1.1\r\n") ||
		!strings.Contains(seen[0], "\r\nProxy-Authorization: Basic Y2hpbGQ6czNjcmV0\r\n") {
		t.Fatalf("the second parent got %q, want one CONNECT %s with the credentials", seen, o.addr)
	}
	// (Whether the first parent reads as down races with the end of its
	// start-up probe, which may mark it up again: only the failover counts.)
	if n := s.hops.failover.Load(); n != 1 {
		t.Errorf("failovers: got %d, want 1", n)
	}
	if lines := o.seen(); len(lines) != 1 || lines[0] != "GET "+path+" HTTP/1.1" {
		t.Errorf("origin got %q, want one origin-form GET %s", lines, path)
	}
}
