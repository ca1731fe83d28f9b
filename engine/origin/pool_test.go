package origin

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func TestPoolReusesConnection(t *testing.T) {
	h := newHarness(t, false, nil)
	o := startRawOrigin(t, serveOK)
	for _, p := range []string{"/a", "/b", "/c"} {
		h.get(o.addr, "GET", p, 200, p)
	}
	if got := o.conns.Load(); got != 1 {
		t.Fatalf("origin connections: got %d, want 1", got)
	}
	if got := h.stats.Reuses.Load(); got != 2 {
		t.Fatalf("reuses: got %d, want 2", got)
	}
	if got := h.idle(o.addr); got != 1 {
		t.Fatalf("idle: got %d, want 1", got)
	}
}

// Idle connections are taken most recently used first.
func TestPoolLIFO(t *testing.T) {
	h := newHarness(t, false, nil)
	release := make(chan struct{})
	o := startRawOrigin(t, func(c *rawConn) {
		for {
			line, _ := c.readRequest()
			if line == "" {
				return
			}
			if path(line) == "/slow" {
				<-release
			}
			c.write(ok(path(line) + "@" + string(rune('0'+c.n))))
		}
	})
	slow := h.start(request(o.addr, "GET", "/slow"))
	// /slow must hold connection 0 before /fast dials, or the two dials
	// race for the origin's first accept.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(strings.Join(o.seen(), "\n"), "/slow"); {
		if time.Now().After(deadline) {
			t.Fatal("the origin never saw /slow")
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.get(o.addr, "GET", "/fast", 200, "/fast@1") // a second connection, pooled first
	close(release)
	h.wait(slow)
	// conn 0 went back last: it is taken first.
	h.get(o.addr, "GET", "/x", 200, "/x@0")
	h.get(o.addr, "GET", "/y", 200, "/y@0")
}

// Issue 12: POST is never sent twice, even when the pooled connection it
// went out on closes before any response byte.
func TestPostNeverRetried(t *testing.T) {
	h := newHarness(t, false, nil)
	o := startRawOrigin(t, func(c *rawConn) {
		if line, _ := c.readRequest(); line == "" {
			return
		}
		c.write(ok("first"))
		c.readRequest() // the second request: closed unanswered
	})
	h.get(o.addr, "GET", "/first", 200, "first")
	ex := request(o.addr, "POST", "/form")
	ex.Head = []byte("POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n")
	ex.Body = []byte("a=b")
	rec := h.fetch(ex)
	if !errors.Is(rec.err, ErrClosed) {
		t.Fatalf("POST: got %v, want %v", rec.err, ErrClosed)
	}
	posts := 0
	for _, l := range o.seen() {
		if strings.HasPrefix(l, "POST") {
			posts++
		}
	}
	if posts != 1 {
		t.Fatalf("origin saw %d POSTs, want 1 (%q)", posts, o.seen())
	}
	if got := h.stats.Retries.Load(); got != 0 {
		t.Fatalf("retries: got %d, want 0", got)
	}
}

// Issue 12: a GET whose pooled connection closes before any response byte
// is retried once, on a freshly dialed connection.
func TestGetRetriedOnceOnFreshConnection(t *testing.T) {
	h := newHarness(t, false, nil)
	o := startRawOrigin(t, func(c *rawConn) {
		if c.n == 0 {
			if line, _ := c.readRequest(); line == "" {
				return
			}
			c.write(ok("first"))
			c.readRequest() // then close without answering
			return
		}
		serveOK(c)
	})
	h.get(o.addr, "GET", "/first", 200, "first")
	h.get(o.addr, "GET", "/again", 200, "/again")
	if got := h.stats.Retries.Load(); got != 1 {
		t.Fatalf("retries: got %d, want 1", got)
	}
	if got := o.conns.Load(); got != 2 {
		t.Fatalf("origin connections: got %d, want 2", got)
	}
}

// The retry happens once: a fresh connection that fails too ends the
// exchange, and a failure after response bytes is never retried.
func TestRetryLimits(t *testing.T) {
	h := newHarness(t, false, nil)
	o := startRawOrigin(t, func(c *rawConn) {
		switch c.n {
		case 0:
			if line, _ := c.readRequest(); line == "" {
				return
			}
			c.write(ok("first"))
			c.readRequest()
		case 1:
			c.readRequest() // the retry: closed too
		case 2:
			if line, _ := c.readRequest(); line == "" {
				return
			}
			c.write(ok("third"))
			c.readRequest()
			c.write("HTTP/1.1 200 OK\r\nContent-Le") // a partial head, then close
		}
	})
	h.get(o.addr, "GET", "/first", 200, "first")
	if rec := h.fetch(request(o.addr, "GET", "/twice")); !errors.Is(rec.err, ErrClosed) {
		t.Fatalf("second failure: got %v, want %v", rec.err, ErrClosed)
	}
	h.get(o.addr, "GET", "/third", 200, "third")
	if rec := h.fetch(request(o.addr, "GET", "/partial")); !errors.Is(rec.err, ErrClosed) {
		t.Fatalf("partial head: got %v, want %v", rec.err, ErrClosed)
	}
	if got := h.stats.Retries.Load(); got != 1 {
		t.Fatalf("retries: got %d, want 1", got)
	}
	if got := o.conns.Load(); got != 3 {
		t.Fatalf("origin connections: got %d, want 3", got)
	}
}

// The origin's Keep-Alive timeout is honoured: the connection leaves the
// pool before it runs out, half of it early for a timeout of 1 s.
func TestKeepAliveTimeoutHonoured(t *testing.T) {
	h := newHarness(t, true, nil)
	o := startRawOrigin(t, func(c *rawConn) {
		for {
			if line, _ := c.readRequest(); line == "" {
				return
			}
			c.write("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	h.get(o.addr, "GET", "/", 200, "ok")
	h.clock.advance(400 * time.Millisecond)
	h.sweep()
	if got := h.idle(o.addr); got != 1 {
		t.Fatalf("idle after 400ms: got %d, want 1", got)
	}
	h.clock.advance(100 * time.Millisecond)
	h.sweep()
	if got := h.idle(o.addr); got != 0 {
		t.Fatalf("idle after 500ms: got %d, want 0", got)
	}
	h.get(o.addr, "GET", "/", 200, "ok")
	if got := o.conns.Load(); got != 2 {
		t.Fatalf("origin connections: got %d, want 2", got)
	}
}

// Issue 12: with an origin that closes idle connections after 1 s and says
// so, requests after an idle pause all succeed.
func TestNo502AfterOriginKeepAlive(t *testing.T) {
	h := newHarness(t, false, nil)
	o := startRawOrigin(t, func(c *rawConn) {
		for {
			_ = c.nc.SetReadDeadline(time.Now().Add(time.Second))
			if line, _ := c.readRequest(); line == "" {
				return
			}
			c.write("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	const parallel = 8
	for round := 0; round < 2; round++ {
		recs := make([]*recorder, parallel)
		for i := range recs {
			recs[i] = h.start(request(o.addr, "GET", "/"))
		}
		for i, rec := range recs {
			h.wait(rec)
			if rec.err != nil {
				t.Fatalf("round %d request %d: %v", round, i, rec.err)
			}
		}
		time.Sleep(1100 * time.Millisecond) // past the origin's idle close
		h.sweep()
	}
}

// Pooled connections also expire after MaxIdle, and bytes arriving on an
// idle connection close it.
func TestIdleExpiryAndBytesWhileIdle(t *testing.T) {
	h := newHarness(t, true, func(c *Config) { c.MaxIdle = 5 * time.Second })
	late := make(chan struct{})
	o := startRawOrigin(t, func(c *rawConn) {
		if line, _ := c.readRequest(); line == "" {
			return
		}
		c.write(ok("one"))
		if c.n == 0 {
			<-late
			c.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil")
		}
		c.readRequest()
	})
	h.get(o.addr, "GET", "/", 200, "one")
	close(late)
	eventually(t, "the idle connection to close", func() bool { return h.idle(o.addr) == 0 })
	if got := h.stats.Discards.Load(); got != 1 {
		t.Fatalf("discards: got %d, want 1", got)
	}
	h.get(o.addr, "GET", "/", 200, "one")
	h.clock.advance(5 * time.Second)
	h.sweep()
	if got := h.idle(o.addr); got != 0 {
		t.Fatalf("idle after MaxIdle: got %d, want 0", got)
	}
}

// The whole head must arrive within HeadTimeout, trickle or not; the body
// must progress within IdleTimeout.
func TestTimeouts(t *testing.T) {
	h := newHarness(t, true, func(c *Config) {
		c.HeadTimeout = 10 * time.Second
		c.IdleTimeout = 3 * time.Second
	})
	step := make(chan string)
	o := startRawOrigin(t, func(c *rawConn) {
		c.readRequest()
		for s := range step {
			c.write(s)
		}
	})
	rec := h.start(request(o.addr, "GET", "/"))
	eventually(t, "the request", func() bool { return len(o.seen()) == 1 })
	sent := 0
	for _, piece := range []string{"HTTP/1.1 ", "200 OK\r\n", "X-A: 1\r\n"} {
		send(t, step, piece) // bytes of the head keep coming
		sent += len(piece)
		eventually(t, "the piece", func() bool { return h.inbound() == sent })
		h.clock.advance(4 * time.Second)
		h.sweep()
	}
	h.wait(rec)
	if !errors.Is(rec.err, ErrHeadTimeout) {
		t.Fatalf("head: got %v, want %v", rec.err, ErrHeadTimeout)
	}
	close(step)

	step = make(chan string)
	o = startRawOrigin(t, func(c *rawConn) {
		c.readRequest()
		for s := range step {
			c.write(s)
		}
	})
	rec = h.start(request(o.addr, "GET", "/"))
	eventually(t, "the request", func() bool { return len(o.seen()) == 1 })
	send(t, step, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")
	eventually(t, "the head", func() bool { return h.bodyLen(rec) == 2 })
	for i := 0; i < 3; i++ { // progress every 2s: no timeout
		h.clock.advance(2 * time.Second)
		h.sweep()
		send(t, step, "c")
		eventually(t, "body progress", func() bool { return h.bodyLen(rec) == 3+i })
	}
	h.clock.advance(4 * time.Second)
	h.sweep()
	h.wait(rec)
	if !errors.Is(rec.err, ErrIdleTimeout) {
		t.Fatalf("body: got %v, want %v", rec.err, ErrIdleTimeout)
	}
	close(step)
}

// send hands s to an origin script, with a hang guard.
func send(t *testing.T, ch chan<- string, s string) {
	t.Helper()
	select {
	case ch <- s:
	case <-time.After(10 * time.Second):
		t.Fatal("the origin script is gone")
	}
}

// inbound returns the bytes the pool's one connection holds unparsed.
func (h *harness) inbound() (n int) {
	h.onLoop(func() {
		if len(h.pool.conns) == 1 && h.pool.conns[0].c != nil {
			n = h.pool.conns[0].c.InboundBuffered()
		}
	})
	return n
}

// bodyLen reads how much body rec holds, on the loop.
func (h *harness) bodyLen(rec *recorder) (n int) {
	h.onLoop(func() { n = rec.body.Len() })
	return n
}

func TestDialFailureAndMaxConns(t *testing.T) {
	dialErr := errors.New("test: destination refused")
	h := newHarness(t, false, func(c *Config) {
		c.MaxConns = 1
		inner := c.Dial
		c.Dial = func(addr string) (net.Conn, error) {
			if strings.HasPrefix(addr, "refused.test") {
				return nil, dialErr
			}
			return inner(addr)
		}
	})
	if rec := h.fetch(request("refused.test:80", "GET", "/")); !errors.Is(rec.err, dialErr) {
		t.Fatalf("dial: got %v, want %v", rec.err, dialErr)
	}
	release := make(chan struct{})
	o := startRawOrigin(t, func(c *rawConn) {
		c.readRequest()
		<-release
		c.write(ok("x"))
		c.readRequest()
	})
	busy := h.start(request(o.addr, "GET", "/"))
	if rec := h.fetch(request(o.addr, "GET", "/")); !errors.Is(rec.err, ErrTooManyConns) {
		t.Fatalf("second connection: got %v, want %v", rec.err, ErrTooManyConns)
	}
	close(release)
	h.wait(busy)
	if busy.err != nil {
		t.Fatal(busy.err)
	}
}

// A canceled exchange gets no callback, and its connection, mid-response,
// is closed rather than pooled.
func TestCancel(t *testing.T) {
	h := newHarness(t, false, nil)
	o := startRawOrigin(t, func(c *rawConn) {
		for {
			line, _ := c.readRequest()
			if line == "" {
				return
			}
			if path(line) == "/cancel" {
				c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart")
				continue
			}
			c.write(ok(path(line)))
		}
	})
	ex := request(o.addr, "GET", "/cancel")
	rec := &recorder{done: make(chan struct{})}
	rec.onBody = func(ex *Exchange, _ []byte) error {
		ex.Cancel()
		return nil
	}
	ex.Handler = rec
	h.start(ex)
	eventually(t, "the cancel", func() bool { return h.bodyLen(rec) == 4 })
	eventually(t, "the connection to close", func() bool {
		var n int
		h.onLoop(func() { n = h.pool.Conns() })
		return n == 0
	})
	select {
	case <-rec.done:
		t.Fatal("OnDone ran after Cancel")
	default:
	}
	h.get(o.addr, "GET", "/next", 200, "/next")
}

// Issue 12: an idle list emptied by a take stays in the map with its
// capacity, so the put of every keep-alive request allocates nothing; the
// sweep drops lists left empty, so hosts visited once do not pile up.
func TestPoolIdleListsKeptUntilSweep(t *testing.T) {
	h := newHarness(t, true, nil)
	a := startRawOrigin(t, serveOK)
	b := startRawOrigin(t, serveOK)
	h.get(a.addr, "GET", "/", 200, "/")
	h.get(b.addr, "GET", "/", 200, "/")
	lists := func() (n int) {
		h.onLoop(func() { n = len(h.pool.idle) })
		return n
	}
	if got := lists(); got != 2 {
		t.Fatalf("idle lists: got %d, want 2", got)
	}
	var allocs float64
	h.onLoop(func() {
		allocs = testing.AllocsPerRun(100, func() {
			oc := h.pool.take(a.addr)
			h.pool.put(oc, oc.expires)
		})
	})
	if allocs != 0 {
		t.Errorf("take and put of a pooled connection: %v allocations, want 0", allocs)
	}
	h.clock.advance(time.Hour) // past every idle lifetime
	h.sweep()
	if got := lists(); got != 0 {
		t.Errorf("idle lists after the sweep: got %d, want 0", got)
	}
}
