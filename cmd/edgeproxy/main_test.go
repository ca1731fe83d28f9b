package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the edgeproxy executable built once for these tests, so the
// proxy runs as its own process and its memory can be measured alone.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "edgeproxy-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "edgeproxy")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// proxyProc is a running edgeproxy process.
type proxyProc struct {
	cmd   *exec.Cmd
	addr  string
	admin string
	logs  *logBuffer
	done  chan error
}

// logBuffer collects a process's output; the test may read it while the
// process still writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freePort(t *testing.T) string {
	t.Helper()
	givenMu.Lock()
	defer givenMu.Unlock()
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		// The kernel may hand a port just closed out again: never give
		// one twice, or a listen and an admin address could collide.
		if !given[addr] {
			given[addr] = true
			return addr
		}
	}
}

var (
	givenMu sync.Mutex      // protects given
	given   map[string]bool = map[string]bool{}
)

// startProc runs the binary with a config file holding yaml (listen and
// admin are added) and waits until it accepts connections.
func startProc(t *testing.T, yaml string) *proxyProc {
	t.Helper()
	return startProcOn(t, freePort(t), freePort(t), yaml)
}

// startProcOn is startProc on given proxy and admin addresses, for a test
// whose configuration names them.
func startProcOn(t *testing.T, addr, admin, yaml string) *proxyProc {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "edgeproxy.yaml")
	logLine := "log:\n  path: \"off\"\n"
	if strings.Contains(yaml, "log:") {
		logLine = ""
	}
	full := fmt.Sprintf("listen: %q\nadmin: %q\nname: proc-test\n%s%s", addr, admin, logLine, allowLocal(yaml))
	if err := os.WriteFile(cfg, []byte(full), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &proxyProc{addr: addr, admin: admin, logs: &logBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(binary, "--config", cfg)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("proxy log:\n%s", p.logs.String())
		}
	})
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("proxy did not start:\n%s", p.logs.String())
	return nil
}

// allowLocal adds acl.allow_local_destinations: true to a test's YAML: the
// test origins listen on loopback, which the proxy refuses by default. A
// YAML that names the key itself (the tests of that refusal) is left alone;
// one with its own acl: section gets the key inside it.
func allowLocal(yaml string) string {
	const key = "allow_local_destinations"
	if strings.Contains(yaml, key) {
		return yaml
	}
	lines := strings.SplitAfter(yaml, "\n")
	for i, l := range lines {
		switch trimmed := strings.TrimRight(l, " \r\n"); {
		case trimmed == "acl:":
			indent := "  "
			if i+1 < len(lines) {
				next := lines[i+1]
				indent = next[:len(next)-len(strings.TrimLeft(next, " "))]
			}
			lines[i] = l + indent + key + ": true\n"
			return strings.Join(lines, "")
		case strings.HasPrefix(trimmed, "acl: {"):
			lines[i] = strings.Replace(l, "acl: {", "acl: {"+key+": true, ", 1)
			return strings.Join(lines, "")
		}
	}
	return "acl:\n  " + key + ": true\n" + yaml
}

// rssKiB reads a field such as VmRSS or VmHWM of the proxy process.
func (p *proxyProc) status(t *testing.T, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field+":") {
			v, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return v
		}
	}
	t.Fatalf("no %s in /proc status", field)
	return 0
}

func startOrigin(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

func curl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed (make test installs it)")
	}
	out, err := exec.Command("curl", append([]string{"-sS", "--max-time", "60"}, args...)...).CombinedOutput()
	return string(out), err
}

func TestVersionAndCheck(t *testing.T) {
	out, err := exec.Command(binary, "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "edgeproxy ") {
		t.Errorf("--version: got %q, %v", out, err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(good, []byte("listen: 127.0.0.1:3128\ntimeouts:\n  client_header: 10s\n"), 0o644)
	_ = os.WriteFile(bad, []byte("listen: 127.0.0.1:3128\ntimeouts:\n  client_headr: 10s\n"), 0o644)
	if out, err := exec.Command(binary, "check", "--config", good).CombinedOutput(); err != nil {
		t.Errorf("check good config: %v %s", err, out)
	}
	out, err = exec.Command(binary, "check", "--config", bad).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "bad.yaml:3") || !strings.Contains(string(out), "timeouts.client_headr") {
		t.Errorf("check bad config: got %q, %v; want an error naming file:line and key", out, err)
	}
	out, err = exec.Command(binary, "--config", filepath.Join(dir, "missing.yaml")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "missing.yaml") {
		t.Errorf("missing config: got %q, %v", out, err)
	}
}

// edgeproxy tune prints one row per setting with its current value,
// recommendation, status and effect.
func TestTune(t *testing.T) {
	out, err := exec.Command(binary, "tune").CombinedOutput()
	if err != nil {
		t.Fatalf("tune: %v\n%s", err, out)
	}
	for _, want := range []string{"net.core.somaxconn", "fs.nr_open", "RLIMIT_NOFILE", "net.ipv4.ip_local_port_range"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("tune output lacks %q:\n%s", want, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 18 {
		t.Errorf("tune printed %d lines, want a header and a row per setting", len(lines))
	}
}

// curl through the proxy: GET, HEAD, a 50 MiB streamed POST (Content-Length
// and chunked), and a CONNECT tunnel to an allowed port, refused on another.
func TestCurl(t *testing.T) {
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			h := sha256.New()
			n, _ := io.Copy(h, r.Body)
			fmt.Fprintf(w, "%d %s", n, hex.EncodeToString(h.Sum(nil)))
			return
		}
		if r.URL.Path == "/chunked" {
			for _, part := range []string{"chun", "ked ", "body"} {
				io.WriteString(w, part)
				w.(http.Flusher).Flush()
			}
			return
		}
		w.Header().Set("Content-Length", "5")
		io.WriteString(w, "hello")
	}))
	_, originPort, _ := net.SplitHostPort(origin)
	p := startProc(t, "tunnel:\n  allowed_ports: ["+originPort+"]\n")
	proxy := "http://" + p.addr

	if out, err := curl(t, "-x", proxy, "http://"+origin+"/"); err != nil || out != "hello" {
		t.Errorf("GET: got %q, %v", out, err)
	}
	if out, err := curl(t, "-x", proxy, "-D", "-", "http://"+origin+"/chunked"); err != nil ||
		!strings.Contains(out, "Transfer-Encoding: chunked") || !strings.HasSuffix(out, "chunked body") {
		t.Errorf("chunked GET: got %q, %v", out, err)
	}
	if out, err := curl(t, "-x", proxy, "-I", "http://"+origin+"/"); err != nil || !strings.Contains(out, "Via: 1.1 proc-test") {
		t.Errorf("HEAD: got %q, %v", out, err)
	}

	file := filepath.Join(t.TempDir(), "body")
	data := bytes.Repeat([]byte("edgeproxy streams uploads\n"), 50<<20/26+1)[:50<<20]
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	want := fmt.Sprintf("%d %s", len(data), hex.EncodeToString(sum[:]))
	if out, err := curl(t, "-x", proxy, "--data-binary", "@"+file, "http://"+origin+"/up"); err != nil || out != want {
		t.Errorf("POST 50 MiB: got %q, %v; want %q", out, err, want)
	}
	if out, err := curl(t, "-x", proxy, "-H", "Transfer-Encoding: chunked", "--data-binary", "@"+file, "http://"+origin+"/up"); err != nil || out != want {
		t.Errorf("chunked POST 50 MiB: got %q, %v; want %q", out, err, want)
	}

	if out, err := curl(t, "-p", "-x", proxy, "http://"+origin+"/"); err != nil || out != "hello" {
		t.Errorf("CONNECT to an allowed port: got %q, %v", out, err)
	}
	other := freePort(t)
	out, err := curl(t, "-p", "-x", proxy, "http://"+other+"/")
	if err == nil || !strings.Contains(out, "403") {
		t.Errorf("CONNECT to a port not allowed: got %q, %v; want a 403 refusal", out, err)
	}
}

// infinite is an endless deterministic body.
type infinite struct{}

func (infinite) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i)
	}
	return len(p), nil
}

// A 1 GiB response to a client that reads slowly does not make the proxy
// buffer it: the worker waits for the client, and the proxy's peak RSS grows
// by far less than 64 MiB.
func TestSlowReaderBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 1 GiB")
	}
	const size = 1 << 30
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		_, _ = io.CopyN(w, infinite{}, size)
	}))
	p := startProc(t, "")
	warm(t, p.addr, origin)
	base := p.status(t, "VmHWM")

	// About 80 MB/s: the origin could send far faster.
	if got := slowGet(t, p.addr, "http://"+origin+"/big", size); got != size {
		t.Fatalf("received %d bytes, want %d", got, size)
	}
	growth := p.status(t, "VmHWM") - base
	t.Logf("proxy peak RSS grew by %d KiB while relaying 1 GiB to a slow reader", growth)
	if growth > 64<<10 {
		t.Errorf("peak RSS grew by %d KiB, want < 64 MiB", growth)
	}
}

// A fast client uploading to a slow origin does not fill the proxy's
// memory: the body is read from the socket only as fast as the origin takes
// it.
func TestFastUploadBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 256 MiB")
	}
	const size = 256 << 20
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 256<<10)
		var n int64
		for {
			m, err := r.Body.Read(buf)
			n += int64(m)
			if err != nil {
				break
			}
			time.Sleep(2 * time.Millisecond) // about 100 MB/s
		}
		fmt.Fprint(w, n)
	}))
	p := startProc(t, "")
	warm(t, p.addr, origin)
	base := p.status(t, "VmHWM")
	u, _ := http.NewRequest("POST", "http://"+origin+"/up", io.LimitReader(infinite{}, size))
	u.ContentLength = size
	proxyURL, _ := url.Parse("http://" + p.addr)
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}
	resp, err := client.Do(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != strconv.Itoa(size) {
		t.Fatalf("origin received %q bytes, want %d", body, size)
	}
	growth := p.status(t, "VmHWM") - base
	t.Logf("proxy peak RSS grew by %d KiB while streaming a 256 MiB upload to a slow origin", growth)
	if growth > 64<<10 {
		t.Errorf("peak RSS grew by %d KiB, want < 64 MiB", growth)
	}
}

// slowGet sends GET target through the proxy on a connection with a
// 64 KiB receive buffer and reads the body slowly, 256 KiB a millisecond at
// most (about 80 MB/s at best), until size bytes or an error; it returns
// the bytes read.
func slowGet(t *testing.T, proxy, target string, size int64) int64 {
	t.Helper()
	c, err := net.Dial("tcp", proxy)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.(*net.TCPConn).SetReadBuffer(64 << 10)
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", target)
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 64<<10), nil)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256<<10)
	var got int64
	for got < size {
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		n, err := resp.Body.Read(buf)
		got += int64(n)
		if err != nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	return got
}

// warm sends a few requests so the baseline includes pools and buffers.
func warm(t *testing.T, proxy, origin string) {
	t.Helper()
	for i := 0; i < 3; i++ {
		_, _ = curl(t, "-x", "http://"+proxy, "-o", "/dev/null", "-H", "Range: bytes=0-0", "http://"+origin+"/warm")
	}
}

// SIGTERM drains: a request in flight completes, then the process exits.
func TestGracefulStop(t *testing.T) {
	arrived := make(chan struct{}, 1)
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		time.Sleep(time.Second) // in flight while the proxy is told to stop
		io.WriteString(w, "finished")
	}))
	p := startProc(t, "timeouts:\n  drain: 10s\n")
	type result struct {
		out string
		err error
	}
	res := make(chan result, 1)
	go func() {
		out, err := curl(t, "-x", "http://"+p.addr, "http://"+origin+"/slow")
		res <- result{out, err}
	}()
	select { // the request is in flight, whatever the machine's speed
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("the request never reached the origin")
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := <-res
	if r.err != nil || r.out != "finished" {
		t.Errorf("in-flight request during drain: got %q, %v", r.out, r.err)
	}
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Errorf("exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("process did not exit after draining")
	}
}
