package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Tests for issue 11, "Bounded memory and workers per client": what one
// client (one connection, or one address) can make the proxy hold.

// dialFrom connects to addr from the local address ip (any of 127.0.0.0/8
// is usable on Linux), so that a test can play two clients.
func dialFrom(t *testing.T, ip, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dialSmallReceiveBuffer connects to addr with a 4 KiB receive buffer, so
// that answers the test leaves unread back up into the proxy at once.
func dialSmallReceiveBuffer(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// readStatus reads one response head from br and returns its status, or 0
// when none came before the deadline.
func readStatus(c net.Conn, br *bufio.Reader, wait time.Duration) int {
	_ = c.SetReadDeadline(time.Now().Add(wait))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// objectBody is a cacheable body whose bytes tell which object it is.
func objectBody(name byte, size int) []byte {
	b := bytes.Repeat([]byte{name}, size)
	copy(b, fmt.Sprintf("object %c\n", name))
	return b
}

// Issue 11: a connection that pipelines 2,000 GETs for a cached 200 KiB
// object and never reads costs a bounded amount of memory, not 400 MB of
// queued answers: its answers wait while gnet holds more than the watermark
// for it. Reading them then gets every answer, in order.
func TestPipelinedHitsBoundedMemory(t *testing.T) {
	const size, count = 200 << 10, 2000
	bodies := map[string][]byte{"/a": objectBody('a', size), "/b": objectBody('b', size)}
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Length", strconv.Itoa(size))
		_, _ = w.Write(bodies[r.URL.Path])
	}))
	p := startProc(t, "")
	for _, path := range []string{"/a", "/b", "/a", "/b"} {
		if out, err := curl(t, "-x", "http://"+p.addr, "-o", "/dev/null", "-w", "%{http_code}", "http://"+origin+path); err != nil || out != "200" {
			t.Fatalf("warm %s: got %q, %v", path, out, err)
		}
	}
	base := p.status(t, "VmRSS")

	c := dialSmallReceiveBuffer(t, p.addr)
	defer c.Close()
	var reqs bytes.Buffer
	for i := 0; i < count; i++ {
		path := "/a"
		if i%2 == 1 {
			path = "/b"
		}
		fmt.Fprintf(&reqs, "GET http://%s%s HTTP/1.1\r\nHost: %s\r\n\r\n", origin, path, origin)
	}
	if reqs.Len() >= 256<<10 {
		t.Fatalf("%d bytes of requests: over limits.max_pipeline", reqs.Len())
	}
	if _, err := c.Write(reqs.Bytes()); err != nil {
		t.Fatal(err)
	}
	// Before issue 11 the proxy queued every answer within a second or two.
	time.Sleep(3 * time.Second)
	growth := p.status(t, "VmRSS") - base
	t.Logf("proxy RSS grew by %d KiB with %d pipelined 200 KiB hits unread", growth, count)
	if growth > 32<<10 {
		t.Errorf("RSS grew by %d KiB, want < 32 MiB", growth)
	}

	br := bufio.NewReaderSize(c, 256<<10)
	for i := 0; i < count; i++ {
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := "/a"
		if i%2 == 1 {
			want = "/b"
		}
		if err != nil || resp.StatusCode != 200 || !bytes.Equal(body, bodies[want]) {
			t.Fatalf("answer %d: got status %d, %d bytes starting %q, %v; want 200 with %s", i, resp.StatusCode, len(body), body[:min(len(body), 9)], err, want)
		}
	}
}

// trickle sends a chunked upload's head, then one one-byte chunk every
// interval until stop is closed or a write fails.
func trickle(c net.Conn, origin string, interval time.Duration, stop <-chan struct{}) {
	fmt.Fprintf(c, "POST http://%s/up HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n\r\n", origin, origin)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := io.WriteString(c, "1\r\nx\r\n"); err != nil {
			return
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// Issue 11: many trickling uploads from one address hold at most that
// address's share of the workers (limits.max_workers_per_client, a quarter
// of the workers by default): its uploads past the share get 503, and
// another address's misses, uploads and CONNECTs are served.
func TestWorkerShareProtectsOtherClients(t *testing.T) {
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, "got %d", n)
	}))
	_, port, _ := net.SplitHostPort(origin)
	p := startProc(t, "workers: 8\ntunnel:\n  allowed_ports: ["+port+"]\n")

	const uploads = 8
	stop := make(chan struct{})
	defer close(stop)
	refused := make(chan int, uploads)
	for i := 0; i < uploads; i++ {
		c := dialFrom(t, "127.0.0.2", p.addr)
		defer c.Close()
		go trickle(c, origin, 200*time.Millisecond, stop)
		go func() { refused <- readStatus(c, bufio.NewReader(c), 15*time.Second) }()
	}
	// A quarter of 8 workers: two uploads hold workers, six are refused.
	for i := 0; i < uploads-2; i++ {
		if st := <-refused; st != 503 {
			t.Fatalf("upload past the share: got status %d, want 503", st)
		}
	}

	for i := 0; i < 3; i++ {
		c := dialFrom(t, "127.0.0.1", p.addr)
		fmt.Fprintf(c, "GET http://%s/miss%d HTTP/1.1\r\nHost: %s\r\n\r\n", origin, i, origin)
		if st := readStatus(c, bufio.NewReader(c), 15*time.Second); st != 200 {
			t.Errorf("other client's miss %d: got status %d, want 200", i, st)
		}
		c.Close()
	}
	c := dialFrom(t, "127.0.0.1", p.addr)
	fmt.Fprintf(c, "POST http://%s/up HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", origin, origin)
	if st := readStatus(c, bufio.NewReader(c), 15*time.Second); st != 200 {
		t.Errorf("other client's upload: got status %d, want 200", st)
	}
	c.Close()
	c = dialFrom(t, "127.0.0.1", p.addr)
	defer c.Close()
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", origin, origin)
	br := bufio.NewReader(c)
	_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
	line, err := br.ReadString('\n')
	if err != nil || !strings.Contains(line, " 200 ") {
		t.Fatalf("other client's CONNECT: got %q, %v; want 200", line, err)
	}
	for line != "\r\n" && err == nil {
		line, err = br.ReadString('\n')
	}
	fmt.Fprintf(c, "GET /tunnel HTTP/1.1\r\nHost: %s\r\n\r\n", origin)
	if st := readStatus(c, br, 15*time.Second); st != 200 {
		t.Errorf("request through the other client's tunnel: got status %d, want 200", st)
	}
}

// Issue 11: an upload that trickles below limits.min_body_rate once
// timeouts.client_body has passed gets 408, and its worker is freed.
func TestTricklingUploadTimesOut(t *testing.T) {
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "got %d", n)
	}))
	p := startProc(t, "workers: 1\ntimeouts:\n  client_body: 1s\nlimits:\n  min_body_rate: 1KiB\n")
	c := dialFrom(t, "127.0.0.1", p.addr)
	defer c.Close()
	stop := make(chan struct{})
	go trickle(c, origin, 100*time.Millisecond, stop)
	st := readStatus(c, bufio.NewReader(c), 20*time.Second)
	close(stop)
	c.Close()
	if st != 408 {
		t.Fatalf("trickling upload: got status %d, want 408", st)
	}
	// The one worker is free again: a miss is answered (a lingering close
	// may hold it for a moment).
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, err := curl(t, "-x", "http://"+p.addr, "-o", "/dev/null", "-w", "%{http_code}", "http://"+origin+"/after")
		if err == nil && out == "200" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("miss after the 408: got %q, %v; want 200", out, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// rawOrigin runs a TCP origin that reads a request head and hands the
// connection to serve.
func rawOrigin(t *testing.T, serve func(c net.Conn, br *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(30 * time.Second))
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if line == "\r\n" {
						break
					}
				}
				serve(c, br)
			}()
		}
	}()
	return ln.Addr().String()
}

// chunkCountingOrigin answers a chunked upload with 200 once it has read
// the body, and then holds the chunks and body bytes it received.
func chunkCountingOrigin(t *testing.T) (addr string, chunks, body *atomic.Int64) {
	t.Helper()
	chunks, body = new(atomic.Int64), new(atomic.Int64)
	addr = rawOrigin(t, func(c net.Conn, br *bufio.Reader) {
		_ = c.SetDeadline(time.Now().Add(5 * time.Minute)) // a hang guard for the 2,000,000-chunk measurement
		var n, total int64
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			size, err := strconv.ParseInt(strings.TrimSpace(line), 16, 64)
			if err != nil {
				return
			}
			if size == 0 {
				_, _ = br.ReadString('\n')
				break
			}
			if _, err := io.CopyN(io.Discard, br, size+2); err != nil {
				return
			}
			n++
			total += size
		}
		chunks.Store(n)
		body.Store(total)
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	return addr, chunks, body
}

// writeOneByteChunks writes a chunked POST to origin whose body is n
// one-byte chunks.
func writeOneByteChunks(w io.Writer, origin string, n int) {
	fmt.Fprintf(w, "POST http://%s/up HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n\r\n", origin, origin)
	for i := 0; i < n; i++ {
		io.WriteString(w, "1\r\nx\r\n")
	}
	io.WriteString(w, "0\r\n\r\n")
}

// Issue 11: the whole origin response head must arrive within
// timeouts.origin_first_byte; an origin trickling its head gets 504 instead
// of holding a worker for as long as it trickles.
func TestOriginHeadTrickleTimesOut(t *testing.T) {
	origin := rawOrigin(t, func(c net.Conn, _ *bufio.Reader) {
		if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\n"); err != nil {
			return
		}
		for i := 0; i < 250; i++ {
			if _, err := io.WriteString(c, "X"); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	p := startProc(t, "timeouts:\n  origin_first_byte: 1s\n")
	c := dialFrom(t, "127.0.0.1", p.addr)
	defer c.Close()
	fmt.Fprintf(c, "GET http://%s/slowhead HTTP/1.1\r\nHost: %s\r\n\r\n", origin, origin)
	if st := readStatus(c, bufio.NewReader(c), 20*time.Second); st != 504 {
		t.Fatalf("trickled origin head: got status %d, want 504", st)
	}
}

// Issue 11: an origin head whose lines end in a bare LF gets 502 at once;
// it used to hang for timeouts.origin_idle, since the origin client waited
// for a CRLFCRLF that never came. The request is not retried: the origin
// broke the protocol, its connection was not merely stale.
func TestOriginBareLFHead(t *testing.T) {
	var requests atomic.Int64
	origin := rawOrigin(t, func(c net.Conn, br *bufio.Reader) {
		requests.Add(1)
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi")
		_, _ = br.ReadByte() // keep the connection open until the proxy closes it
	})
	p := startProc(t, "")
	c := dialFrom(t, "127.0.0.1", p.addr)
	defer c.Close()
	fmt.Fprintf(c, "GET http://%s/lf HTTP/1.1\r\nHost: %s\r\n\r\n", origin, origin)
	if st := readStatus(c, bufio.NewReader(c), 20*time.Second); st != 502 {
		t.Fatalf("bare-LF origin head: got status %d, want 502", st)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("origin got %d requests, want 1 (no retry)", n)
	}
}

// Issue 11: an upload of many one-byte chunks reaches the origin in few,
// larger chunks: the proxy hands on what it has buffered together instead
// of one origin write per client chunk.
func TestSmallChunksCoalesced(t *testing.T) {
	const chunks = 20000
	origin, originChunks, originBytes := chunkCountingOrigin(t)
	p := startProc(t, "")
	c := dialFrom(t, "127.0.0.1", p.addr)
	defer c.Close()
	var req bytes.Buffer
	writeOneByteChunks(&req, origin, chunks)
	if _, err := c.Write(req.Bytes()); err != nil {
		t.Fatal(err)
	}
	if st := readStatus(c, bufio.NewReader(c), 30*time.Second); st != 200 {
		t.Fatalf("upload: got status %d, want 200", st)
	}
	t.Logf("%d one-byte client chunks reached the origin as %d chunks", chunks, originChunks.Load())
	if originBytes.Load() != chunks {
		t.Fatalf("origin received %d body bytes, want %d", originBytes.Load(), chunks)
	}
	if originChunks.Load() > chunks/20 {
		t.Errorf("origin received %d chunks for %d one-byte client chunks, want them coalesced (at most %d)", originChunks.Load(), chunks, chunks/20)
	}
}

// gatedOrigin serves a cacheable object of size bytes: the first MiB at
// once, the rest once gate is closed. It reports, per request, the bytes it
// wrote and whether a write failed.
type gatedOrigin struct {
	addr string
	gate chan struct{}
	done chan [2]int64 // bytes written, 1 if a write failed
}

func startGatedOrigin(t *testing.T, size int) *gatedOrigin {
	o := &gatedOrigin{gate: make(chan struct{}), done: make(chan [2]int64, 4)}
	piece := make([]byte, 64<<10)
	o.addr = startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Length", strconv.Itoa(size))
		var sent int64
		failed := int64(0)
		for sent < int64(size) {
			if sent == 1<<20 {
				w.(http.Flusher).Flush()
				<-o.gate
			}
			n, err := w.Write(piece[:min(len(piece), size-int(sent))])
			sent += int64(n)
			if err != nil {
				failed = 1
				break
			}
		}
		o.done <- [2]int64{sent, failed}
	}))
	return o
}

// getHead sends a GET for u and reads the response head.
func getHead(t *testing.T, proxy, u string) (net.Conn, *http.Response) {
	t.Helper()
	c := dialFrom(t, "127.0.0.1", proxy)
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", u)
	_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 64<<10), nil)
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	return c, resp
}

// Issue 11: Squid's quick_abort. A client that leaves a large cacheable
// fetch early makes the proxy abandon it (far more than
// cache.quick_abort_max is left), unless another client still follows the
// fill; then the fetch finishes and the follower gets the whole object.
func TestQuickAbort(t *testing.T) {
	const size = 32 << 20
	t.Run("abandoned", func(t *testing.T) {
		o := startGatedOrigin(t, size)
		p := startProc(t, "")
		c, resp := getHead(t, p.addr, "http://"+o.addr+"/alone")
		if resp.StatusCode != 200 {
			t.Fatalf("got status %d, want 200", resp.StatusCode)
		}
		c.Close()
		time.Sleep(200 * time.Millisecond) // the proxy sees the close
		close(o.gate)
		var r [2]int64
		select {
		case r = <-o.done:
		case <-time.After(30 * time.Second):
			t.Fatal("origin still sending after 30s")
		}
		t.Logf("origin sent %d of %d bytes to an abandoned fetch", r[0], size)
		if r[1] != 1 || r[0] > size/2 {
			t.Errorf("origin sent %d of %d bytes (write failed: %v); want the fetch abandoned early", r[0], size, r[1] == 1)
		}
	})
	t.Run("followed", func(t *testing.T) {
		o := startGatedOrigin(t, size)
		p := startProc(t, "")
		u := "http://" + o.addr + "/shared"
		a, _ := getHead(t, p.addr, u)
		b, resp := getHead(t, p.addr, u)
		defer b.Close()
		if cs := resp.Header.Get("Cache-Status"); !strings.Contains(cs, "collapsed") {
			a.Close()
			t.Fatalf("second request: Cache-Status %q, want a collapsed follower", cs)
		}
		a.Close()
		time.Sleep(200 * time.Millisecond)
		close(o.gate)
		_ = b.SetReadDeadline(time.Now().Add(60 * time.Second))
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil || n != size {
			t.Fatalf("follower received %d bytes, %v; want %d", n, err, size)
		}
		if r := <-o.done; r[1] != 0 || r[0] != size {
			t.Errorf("origin sent %d of %d bytes (write failed: %v); want the whole object", r[0], size, r[1] == 1)
		}
	})
}

// Issue 11: limits.max_connections_per_client refuses an address's
// connection past the cap with 503; other addresses are unaffected, and a
// closed connection makes room again.
func TestMaxConnectionsPerClient(t *testing.T) {
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	p := startProc(t, "limits:\n  max_connections_per_client: 3\n")
	get := func(c net.Conn) int {
		fmt.Fprintf(c, "GET http://%s/ HTTP/1.1\r\nHost: %s\r\n\r\n", origin, origin)
		return readStatus(c, bufio.NewReader(c), 15*time.Second)
	}
	var open []net.Conn
	for i := 0; i < 3; i++ {
		c := dialFrom(t, "127.0.0.1", p.addr)
		defer c.Close()
		if st := get(c); st != 200 {
			t.Fatalf("connection %d: got status %d, want 200", i+1, st)
		}
		open = append(open, c)
	}
	c := dialFrom(t, "127.0.0.1", p.addr)
	if st := readStatus(c, bufio.NewReader(c), 15*time.Second); st != 503 {
		t.Errorf("connection 4 from one address: got status %d, want 503", st)
	}
	c.Close()
	other := dialFrom(t, "127.0.0.2", p.addr)
	defer other.Close()
	if st := get(other); st != 200 {
		t.Errorf("another address: got status %d, want 200", st)
	}
	open[0].Close()
	waitFor(t, func() bool {
		c := dialFrom(t, "127.0.0.1", p.addr)
		defer c.Close()
		return get(c) == 200
	})
}
