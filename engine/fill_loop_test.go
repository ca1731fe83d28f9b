package engine

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"edgeproxy/engine/config"
)

// Issue 12: cache fills, revalidations and background fetches run on the
// event loop through the origin package. These tests drive the proxy, cache
// on, against a scripted origin that misbehaves on purpose, for cacheable
// URLs: what it sends past a response must neither answer nor be stored for
// another URL.

// oneLoop runs one event loop, so that every request meets the same origin
// pool; the cache stays on.
func oneLoop(c *config.Config) { c.EventLoops = 1 }

// cacheable is a 200 that may be stored for an hour.
func cacheable(body string) string {
	return "HTTP/1.1 200 OK\r\nCache-Control: max-age=3600\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// injectedCacheable is what a misbehaving origin slips in: a cacheable
// response that must never be taken for the next request's.
var injectedCacheable = cacheable("evil")

// echoCacheable answers each request with its path, cacheable.
func echoCacheable(c *scriptConn) {
	for {
		p, _ := c.read()
		if p == "" {
			return
		}
		c.write(cacheable(p))
	}
}

// wantStoredRight asks for url twice: a miss, then a hit, both with body.
func wantStoredRight(t *testing.T, s *Server, url, body string) {
	t.Helper()
	resp, got := cacheGet(t, s, url)
	if resp.StatusCode != 200 || got != body {
		t.Fatalf("%s: got %d %q, want 200 %q", url, resp.StatusCode, got, body)
	}
	resp, got = cacheGet(t, s, url)
	if resp.StatusCode != 200 || got != body {
		t.Fatalf("%s again: got %d %q, want 200 %q", url, resp.StatusCode, got, body)
	}
	wantHit(t, resp, url+" again")
}

// Issue 12: a body after HEAD, 204 or 304, or bytes past Content-Length, in
// the same write, in a later segment, or past 4 KiB, neither answer nor are
// stored for another cacheable URL.
func TestFillBytesPastResponse(t *testing.T) {
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
				o := startScriptOrigin(t, func(c *scriptConn) {
					if c.n > 0 {
						echoCacheable(c)
						return
					}
					if p, _ := c.read(); p == "" {
						return
					}
					if later {
						c.write(tc.resp)
						<-inject
						c.write(injectedCacheable)
						close(injected)
					} else {
						c.write(tc.resp + injectedCacheable)
					}
					for {
						if p, _ := c.read(); p == "" {
							return
						}
						c.write(injectedCacheable)
					}
				})
				resp := loopGet(t, s, tc.method, "http://"+o.addr+"/first")
				if resp.StatusCode != tc.status || bodyOf(t, resp) != tc.body {
					t.Fatalf("first: got %d, want %d %q", resp.StatusCode, tc.status, tc.body)
				}
				close(inject)
				if later {
					// The bytes arrive on the idle pooled connection, which
					// closes at once (the proxy before issue 12 kept it).
					<-injected
					eventually(5*time.Second, func() bool {
						return s.originStats.Discards.Load() > 0 && s.originStats.Open.Load() == 0
					})
				}
				for _, p := range []string{"/other", "/third"} {
					wantStoredRight(t, s, "http://"+o.addr+p, p)
				}
			})
		}
	}
}

// Issue 12: Content-Length with Transfer-Encoding from the origin is a 502,
// and nothing is stored.
func TestFillContentLengthAndChunked(t *testing.T) {
	s := startProxy(t, oneLoop)
	o := startScriptOrigin(t, func(c *scriptConn) {
		if p, _ := c.read(); p == "" {
			return
		}
		c.write("HTTP/1.1 200 OK\r\nCache-Control: max-age=3600\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nevil\r\n0\r\n\r\n")
	})
	for i := range 2 {
		resp, _ := cacheGet(t, s, "http://"+o.addr+"/clte")
		if resp.StatusCode != 502 {
			t.Fatalf("request %d: got %d, want 502", i+1, resp.StatusCode)
		}
	}
	if n := o.conns.Load(); n != 2 {
		t.Errorf("origin saw %d connections, want 2: the second request must not be answered from the cache", n)
	}
}

// Issue 12: a body the origin cuts short (by length, chunked, on the loop
// or past the watermark) reaches the client truncated and is never stored:
// the next request fetches again and gets the whole body.
func TestFillTruncatedNotStored(t *testing.T) {
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
			o := startScriptOrigin(t, func(c *scriptConn) {
				if p, _ := c.read(); p == "" {
					return
				}
				if c.n == 0 {
					c.write(tc.cut(body)) // and close
					return
				}
				c.write(cacheable(body))
			})
			url := "http://" + o.addr + "/cut"
			resp, got, err := cacheGetErr(t, s, url)
			if err == nil && resp != nil && string(got) == body {
				t.Fatalf("truncated fill: the client got the whole body")
			}
			resp, got, err = cacheGetErr(t, s, url)
			if err != nil || resp.StatusCode != 200 || string(got) != body {
				t.Fatalf("after a truncated fill: got %v, %d bytes, want 200 and the whole %d", err, len(got), len(body))
			}
			if isHit(resp) {
				t.Fatal("after a truncated fill: a HIT, want the truncated body not stored")
			}
			if n := o.conns.Load(); n != 2 {
				t.Errorf("origin saw %d connections, want 2", n)
			}
		})
	}
}

// Issue 12: the followers of a collapsed fill get the whole body, which
// arrives in pieces, larger than the watermark; the origin sees one request.
func TestFillFollowersGetWholeBody(t *testing.T) {
	s := startProxy(t, oneLoop)
	body := string(patternBody(600<<10, 3))
	started, release := make(chan struct{}), make(chan struct{})
	o := startScriptOrigin(t, func(c *scriptConn) {
		if p, _ := c.read(); p == "" {
			return
		}
		head := "HTTP/1.1 200 OK\r\nCache-Control: max-age=3600\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
		c.write(head + body[:1000])
		close(started)
		<-release
		for i := 1000; i < len(body); i += 50000 {
			c.write(body[i:min(i+50000, len(body))])
		}
	})
	url := "http://" + o.addr + "/shared"
	const n = 4
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i > 0 {
				<-started
			}
			resp, got, err := rawGet(s.Addr(), url)
			if err != nil || resp.StatusCode != 200 || string(got) != body {
				errs <- fmt.Sprintf("client %d: %v, %d bytes", i, err, len(got))
			}
		}()
	}
	<-started
	time.Sleep(100 * time.Millisecond) // the followers join the flight
	close(release)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if c := o.conns.Load(); c != 1 {
		t.Errorf("origin saw %d connections, want 1", c)
	}
	resp, got := cacheGet(t, s, url)
	if got != body {
		t.Fatalf("after the fill: got %d bytes, want %d", len(got), len(body))
	}
	wantHit(t, resp, "after the fill")
}

// Issue 12: a revalidation runs on the loop too: a 304 freshens the stored
// response, which the client gets whole; bytes the origin sends past the
// 304 close the connection and reach no other URL.
func TestFillRevalidation304Freshens(t *testing.T) {
	s := startProxy(t, oneLoop)
	body := "body of v1"
	var asked atomic.Int32
	inject, injected := make(chan struct{}), make(chan struct{})
	o := startScriptOrigin(t, func(c *scriptConn) {
		for {
			p, _ := c.read()
			switch p {
			case "":
				return
			case "/v":
				if asked.Add(1) == 1 {
					c.write("HTTP/1.1 200 OK\r\nCache-Control: max-age=10\r\nAge: 20\r\nETag: \"v1\"\r\nContent-Length: " +
						strconv.Itoa(len(body)) + "\r\n\r\n" + body)
					continue
				}
				c.write("HTTP/1.1 304 Not Modified\r\nCache-Control: max-age=3600\r\nETag: \"v1\"\r\n\r\n")
				<-inject // in a later segment, on the pooled connection
				c.write(injectedCacheable)
				close(injected)
			default:
				c.write(cacheable(p))
			}
		}
	})
	url := "http://" + o.addr + "/v"
	cacheGet(t, s, url)
	resp, got := cacheGet(t, s, url)
	if resp.StatusCode != 200 || got != body {
		t.Fatalf("revalidated: got %d %q, want 200 %q", resp.StatusCode, got, body)
	}
	if cs := resp.Header.Get("Cache-Status"); !strings.Contains(cs, "fwd-status=304") {
		t.Errorf("revalidated: Cache-Status %q, want fwd-status=304", cs)
	}
	close(inject)
	<-injected
	eventually(5*time.Second, func() bool { return s.originStats.Discards.Load() > 0 })
	resp, got = cacheGet(t, s, url)
	if got != body {
		t.Fatalf("after the 304: got %q, want %q", got, body)
	}
	wantHit(t, resp, "after the 304")
	wantStoredRight(t, s, "http://"+o.addr+"/other", "/other")
}

// Issue 12: a stale-while-revalidate refresh, a background fetch, goes
// through the loop's origin pool and freshens the entry with a 304;
// the bytes its origin sends past the 304 reach no other URL.
func TestFillBackgroundRefresh(t *testing.T) {
	s := startProxy(t, oneLoop)
	body := "swr body"
	var mu sync.Mutex
	var conds []string
	var asked atomic.Int32
	o := startScriptOrigin(t, func(c *scriptConn) {
		for {
			p, _ := c.read()
			switch p {
			case "":
				return
			case "/swr":
				if asked.Add(1) == 1 {
					c.write("HTTP/1.1 200 OK\r\nCache-Control: max-age=10, stale-while-revalidate=3600\r\nAge: 20\r\nETag: \"s1\"\r\nContent-Length: " +
						strconv.Itoa(len(body)) + "\r\n\r\n" + body)
					continue
				}
				mu.Lock()
				conds = append(conds, "304")
				mu.Unlock()
				c.write("HTTP/1.1 304 Not Modified\r\nCache-Control: max-age=3600\r\nETag: \"s1\"\r\n\r\n" + injectedCacheable)
			default:
				c.write(cacheable(p))
			}
		}
	})
	url := "http://" + o.addr + "/swr"
	cacheGet(t, s, url)
	reuses := s.originStats.Reuses.Load()
	resp, got := cacheGet(t, s, url) // stale: served, and refreshed behind
	if got != body {
		t.Fatalf("stale hit: got %q, want %q", got, body)
	}
	wantHit(t, resp, "stale-while-revalidate")
	waitFor(t, "the refresh", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(conds) == 1 && s.inflight.Load() == 0
	})
	if r := s.originStats.Reuses.Load(); r != reuses+1 {
		t.Errorf("the refresh took %d pooled origin connections of the loop, want 1", r-reuses)
	}
	resp, got = cacheGet(t, s, url)
	if got != body {
		t.Fatalf("after the refresh: got %q, want %q", got, body)
	}
	wantHit(t, resp, "after the refresh")
	if ttl, ok := ttlOf(resp); !ok || ttl < 3000 {
		t.Errorf("after the refresh: ttl %d, want the 304's max-age=3600", ttl)
	}
	wantStoredRight(t, s, "http://"+o.addr+"/other", "/other")
}
