package origin

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"

	"edgeproxy/codec"
)

// testEngine is the smallest gnet event handler that hosts a Pool: origin
// connections are routed to their Conn, and the one control connection the
// harness opens tells it the loop.
type testEngine struct {
	gnet.BuiltinEventEngine
	eng   gnet.Engine
	boot  chan struct{}
	loops chan gnet.EventLoop
}

func (e *testEngine) OnBoot(eng gnet.Engine) gnet.Action {
	e.eng = eng
	close(e.boot)
	return gnet.None
}

func (e *testEngine) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	if oc, ok := Owner(c); ok {
		return nil, oc.OnOpen(c)
	}
	select {
	case e.loops <- c.EventLoop():
	default:
	}
	return nil, gnet.None
}

func (e *testEngine) OnTraffic(c gnet.Conn) gnet.Action {
	if oc, ok := Owner(c); ok {
		return oc.OnTraffic()
	}
	_, _ = c.Discard(-1)
	return gnet.None
}

func (e *testEngine) OnClose(c gnet.Conn, _ error) gnet.Action {
	if oc, ok := Owner(c); ok {
		oc.OnClose()
	}
	return gnet.None
}

// clock is a settable time source for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// harness is a gnet engine with one loop and a Pool on it.
type harness struct {
	t     *testing.T
	el    gnet.EventLoop
	pool  *Pool
	stats *Stats
	clock *clock // nil: real time
}

// newHarness starts the engine; fake selects a settable clock.
func newHarness(t *testing.T, fake bool, mutate func(*Config)) *harness {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	e := &testEngine{boot: make(chan struct{}), loops: make(chan gnet.EventLoop, 1)}
	errc := make(chan error, 1)
	go func() {
		errc <- gnet.Run(e, "tcp://"+addr, gnet.WithNumEventLoop(1), gnet.WithReusePort(true), gnet.WithLogLevel(logging.ErrorLevel))
	}()
	select {
	case <-e.boot:
	case err := <-errc:
		t.Fatalf("gnet: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("gnet did not start")
	}
	ctl, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var el gnet.EventLoop
	select {
	case el = <-e.loops:
	case <-time.After(5 * time.Second):
		t.Fatal("no event loop")
	}
	h := &harness{t: t, el: el, stats: new(Stats)}
	cfg := Config{
		Dial:  func(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, 5*time.Second) },
		Stats: h.stats,
	}
	if fake {
		h.clock = &clock{t: time.Unix(1_000_000, 0)}
		cfg.Now = h.clock.Now
	}
	if mutate != nil {
		mutate(&cfg)
	}
	h.pool = NewPool(el, cfg)
	t.Cleanup(func() {
		_ = ctl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.eng.Stop(ctx)
		<-errc
	})
	return h
}

// onLoop runs f on the loop and waits for it.
func (h *harness) onLoop(f func()) {
	h.t.Helper()
	done := make(chan struct{})
	err := h.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		f()
		close(done)
		return nil
	}))
	if err != nil {
		h.t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		h.t.Fatal("loop did not run the task")
	}
}

// recorder is a Handler that keeps what it was given.
type recorder struct {
	heads  []int // statuses, interim ones included
	fields []string
	body   bytes.Buffer
	err    error
	done   chan struct{}
	onHead func(ex *Exchange, r *codec.Response) error
	onBody func(ex *Exchange, data []byte) error
}

func (r *recorder) OnHead(ex *Exchange, resp *codec.Response) error {
	r.heads = append(r.heads, resp.Status)
	for _, f := range resp.Headers {
		r.fields = append(r.fields, string(f.Name)+": "+string(f.Value))
	}
	if r.onHead != nil {
		return r.onHead(ex, resp)
	}
	return nil
}

func (r *recorder) OnBody(ex *Exchange, data []byte) error {
	r.body.Write(data)
	if r.onBody != nil {
		return r.onBody(ex, data)
	}
	return nil
}

func (r *recorder) OnDone(_ *Exchange, err error) {
	r.err = err
	close(r.done)
}

// request builds an exchange for method and path on addr.
func request(addr, method, path string) *Exchange {
	head := method + " " + path + " HTTP/1.1\r\nHost: " + addr + "\r\n\r\n"
	return &Exchange{
		Addr:        addr,
		Head:        []byte(head),
		HeadRequest: method == "HEAD",
		Idempotent:  Idempotent([]byte(method)),
	}
}

// start runs ex on the loop with a new recorder.
func (h *harness) start(ex *Exchange) *recorder {
	h.t.Helper()
	rec := &recorder{done: make(chan struct{})}
	if ex.Handler == nil {
		ex.Handler = rec
	} else {
		rec = ex.Handler.(*recorder)
	}
	h.onLoop(func() { h.pool.Do(ex) })
	return rec
}

// wait waits for rec's exchange to end.
func (h *harness) wait(rec *recorder) {
	h.t.Helper()
	select {
	case <-rec.done:
	case <-time.After(10 * time.Second):
		h.t.Fatal("exchange did not end")
	}
}

// fetch runs ex to its end.
func (h *harness) fetch(ex *Exchange) *recorder {
	h.t.Helper()
	rec := h.start(ex)
	h.wait(rec)
	return rec
}

// get fetches path with method and fails the test unless the response
// arrives whole with status and body.
func (h *harness) get(addr, method, path string, status int, body string) {
	h.t.Helper()
	rec := h.fetch(request(addr, method, path))
	if rec.err != nil {
		h.t.Fatalf("%s %s: %v", method, path, rec.err)
	}
	if got := rec.heads[len(rec.heads)-1]; got != status {
		h.t.Fatalf("%s %s: status got %d, want %d", method, path, got, status)
	}
	if rec.body.String() != body {
		h.t.Fatalf("%s %s: body got %q, want %q", method, path, rec.body.String(), body)
	}
}

// idle returns the pool's idle connections to addr, read on the loop.
func (h *harness) idle(addr string) (n int) {
	h.onLoop(func() { n = h.pool.Idle(addr) })
	return n
}

// sweep runs the pool's sweep on the loop.
func (h *harness) sweep() { h.onLoop(h.pool.Sweep) }

// eventually polls cond until it holds; a hang guard, not a timing check.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// rawOrigin is a TCP listener on 127.0.0.1 whose connections are served by
// a script that writes exact bytes, so it can misbehave on purpose.
type rawOrigin struct {
	addr     string
	conns    atomic.Int32
	mu       sync.Mutex
	requests []string // request lines in arrival order
}

// rawConn is one origin-side connection, with helpers for scripts.
type rawConn struct {
	o  *rawOrigin
	nc net.Conn
	br *bufio.Reader
	n  int // index of this connection, from 0
}

// startRawOrigin serves every connection with script until it returns; the
// connection is then closed.
func startRawOrigin(t *testing.T, script func(c *rawConn)) *rawOrigin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &rawOrigin{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	var open []net.Conn // closed at cleanup, so scripts blocked in a read end
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			o.mu.Lock()
			open = append(open, nc)
			o.mu.Unlock()
			n := int(o.conns.Add(1)) - 1
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				_ = nc.SetDeadline(time.Now().Add(20 * time.Second)) // hang guard
				script(&rawConn{o: o, nc: nc, br: bufio.NewReader(nc), n: n})
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		o.mu.Lock()
		for _, nc := range open {
			_ = nc.Close()
		}
		o.mu.Unlock()
		wg.Wait()
	})
	return o
}

func (o *rawOrigin) seen() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.requests...)
}

// readRequest reads one request head and its Content-Length body, and
// returns the request line; "" at the end of the connection.
func (c *rawConn) readRequest() (line string, body string) {
	cl := 0
	for i := 0; ; i++ {
		s, err := c.br.ReadString('\n')
		if err != nil {
			return "", ""
		}
		s = strings.TrimRight(s, "\r\n")
		if i == 0 {
			line = s
			c.o.mu.Lock()
			c.o.requests = append(c.o.requests, s)
			c.o.mu.Unlock()
			continue
		}
		if s == "" {
			break
		}
		if k, v, ok := strings.Cut(s, ":"); ok && strings.EqualFold(k, "content-length") {
			cl, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if cl > 0 {
		b := make([]byte, cl)
		if _, err := io.ReadFull(c.br, b); err != nil {
			return "", ""
		}
		body = string(b)
	}
	return line, body
}

func (c *rawConn) write(s string) { _, _ = io.WriteString(c.nc, s) }

// ok is a well-formed keep-alive response with body b.
func ok(b string) string {
	return "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(b)) + "\r\n\r\n" + b
}

// serveOK answers every request with 200 and the request's path as body.
func serveOK(c *rawConn) {
	for {
		line, _ := c.readRequest()
		if line == "" {
			return
		}
		c.write(ok(path(line)))
	}
}

// path returns the target of a request line.
func path(line string) string {
	f := strings.Fields(line)
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

var errHandler = errors.New("test: handler refused")
