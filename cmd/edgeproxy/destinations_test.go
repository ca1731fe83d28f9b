package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Issue 11: destinations a client may not reach, and request parsing
// corners. These tests run the real binary; the proxy's own key for
// loopback origins (acl.allow_local_destinations) is named in every YAML
// here, so the harness does not turn it on behind their back.

// strict is the YAML of a proxy with the shipped destination policy.
const strict = "acl:\n  allow_local_destinations: false\n"

// local turns loopback destinations on, as an operator would.
const local = "acl:\n  allow_local_destinations: true\n"

// exchange sends one raw request to the proxy and reads the answer.
func exchange(t *testing.T, proxy, req string) (int, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", proxy, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	method := strings.SplitN(req, " ", 2)[0]
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%q: reading the response: %v", req, err)
	}
	defer resp.Body.Close()
	if method == "CONNECT" && resp.StatusCode == 200 {
		return 200, ""
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// loopbackSpellings are ways to write an address of this machine's loopback
// interface in a URL authority, each followed by ":port".
var loopbackSpellings = []string{
	"127.0.0.1", "localhost", "LOCALHOST.", "foo.localhost", "0.0.0.0", "[::ffff:127.0.0.1]",
	"[::ffff:7f00:1]", "[::1]", "[::]", "2130706433", "0x7f.1", "0x7f000001", "127.1",
	"0177.0.0.1", "017700000001", "127.0.0.1.", "127.0.0.2",
}

// adminRequests are the admin listener's pages and actions.
var adminRequests = []struct{ method, path string }{
	{"GET", "/stats"}, {"GET", "/metrics"}, {"GET", "/debug/pprof/goroutine?debug=1"},
	{"POST", "/reload"}, {"POST", "/stats/reset"}, {"GET", "/healthz"},
}

// The admin listener answers nothing through the proxy port, in any
// spelling of its address, with loopback destinations refused (the
// default) and allowed alike.
func TestAdminUnreachableThroughProxy(t *testing.T) {
	for _, mode := range []struct{ name, yaml string }{{"default", strict}, {"allow_local_destinations", local}} {
		t.Run(mode.name, func(t *testing.T) {
			p := startProc(t, mode.yaml)
			_, port, _ := net.SplitHostPort(p.admin)
			for _, host := range loopbackSpellings {
				for _, r := range adminRequests {
					req := fmt.Sprintf("%s http://%s:%s%s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
						r.method, host, port, r.path)
					status, body := exchange(t, p.addr, req)
					if status != 403 {
						t.Errorf("%s http://%s:%s%s: got %d %.80q, want 403", r.method, host, port, r.path, status, body)
					}
				}
			}
			// The admin listener itself still works, and saw none of it:
			// no reload happened.
			if out, err := curl(t, "http://"+p.admin+"/healthz"); err != nil || strings.TrimSpace(out) != "ok" {
				t.Errorf("admin /healthz directly: %q, %v", out, err)
			}
			if strings.Contains(p.logs.String(), "configuration reloaded") {
				t.Error("a POST /reload through the proxy port reached the admin listener")
			}
		})
	}
}

// CONNECT cannot reach the admin listener either, even with its port in
// tunnel.allowed_ports and loopback destinations allowed.
func TestAdminUnreachableByConnect(t *testing.T) {
	addr, admin := freePort(t), freePort(t)
	_, port, _ := net.SplitHostPort(admin)
	p := startProcOn(t, addr, admin, local+"tunnel:\n  allowed_ports: ["+port+"]\n")
	for _, host := range loopbackSpellings {
		status, body := exchange(t, p.addr, fmt.Sprintf("CONNECT %s:%s HTTP/1.1\r\nHost: %s:%s\r\n\r\n", host, port, host, port))
		if status != 403 {
			t.Errorf("CONNECT %s:%s: got %d %.80q, want 403", host, port, status, body)
		}
	}
}

// countingOrigin is an HTTP origin that counts the requests it serves.
type countingOrigin struct {
	addr string
	hits atomic.Int64
	mu   sync.Mutex
	last http.Header
}

func startCountingOrigin(t *testing.T) *countingOrigin {
	t.Helper()
	o := &countingOrigin{}
	o.addr = startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		o.mu.Lock()
		o.last = r.Header.Clone()
		o.mu.Unlock()
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, "origin")
	}))
	return o
}

// By default loopback origins are refused with a 403 that names the key;
// with acl.allow_local_destinations: true they are served.
func TestLoopbackOriginsNeedTheKey(t *testing.T) {
	o := startCountingOrigin(t)
	_, port, _ := net.SplitHostPort(o.addr)
	p := startProc(t, strict)
	for _, host := range loopbackSpellings {
		u := "http://" + host + ":" + port + "/x"
		code, _ := curl(t, "-x", "http://"+p.addr, "-o", "/dev/null", "-w", "%{http_code}", "--globoff", u)
		if code != "403" {
			t.Errorf("%s: got %s, want 403", u, code)
		}
	}
	body, _ := curl(t, "-x", "http://"+p.addr, "http://"+o.addr+"/x")
	if !strings.Contains(body, "acl.allow_local_destinations") {
		t.Errorf("403 page: got %q, want it to name acl.allow_local_destinations", body)
	}
	if n := o.hits.Load(); n != 0 {
		t.Errorf("the origin saw %d requests, want 0", n)
	}

	p = startProc(t, local)
	for _, host := range []string{"127.0.0.1", "localhost", "127.1", "0x7f.1"} {
		u := "http://" + host + ":" + port + "/x"
		if body, err := curl(t, "-x", "http://"+p.addr, u); err != nil || body != "origin" {
			t.Errorf("%s with allow_local_destinations: got %q, %v", u, body, err)
		}
	}
}

// A refusal is logged as TCP_DENIED/403 and counted.
func TestDestinationRefusalLogged(t *testing.T) {
	o := startCountingOrigin(t)
	logPath := filepath.Join(t.TempDir(), "access.log")
	p := startProc(t, strict+"log:\n  path: "+logPath+"\n")
	_, _ = curl(t, "-x", "http://"+p.addr, "-o", "/dev/null", "http://localhost:"+portOf(o.addr)+"/logged")
	waitFor(t, func() bool {
		b, _ := os.ReadFile(logPath)
		return strings.Contains(string(b), "TCP_DENIED/403") && strings.Contains(string(b), "/logged")
	})
	metrics, _ := curl(t, "http://"+p.admin+"/metrics")
	if !strings.Contains(metrics, `status="403",result="TCP_DENIED"`) {
		t.Errorf("metrics lack the refusal:\n%.2000s", grepLines(metrics, "edgeproxy_requests_total"))
	}
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}

func grepLines(s, sub string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// hostsName adds a name for 127.0.0.1 to /etc/hosts for the test's
// duration, or skips the test when the file cannot be written.
func hostsName(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("edgeproxy-dest-%d.test", os.Getpid())
	line := "127.0.0.1 " + name + " # edgeproxy test, removed when the test ends\n"
	f, err := os.OpenFile("/etc/hosts", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("cannot add a test name to /etc/hosts: %v", err)
	}
	_, err = f.WriteString(line)
	_ = f.Close()
	if err != nil {
		t.Skipf("cannot add a test name to /etc/hosts: %v", err)
	}
	t.Cleanup(func() {
		b, err := os.ReadFile("/etc/hosts")
		if err != nil {
			t.Errorf("restoring /etc/hosts: %v", err)
			return
		}
		if err := os.WriteFile("/etc/hosts", []byte(strings.ReplaceAll(string(b), line, "")), 0o644); err != nil {
			t.Errorf("restoring /etc/hosts: %v", err)
		}
	})
	return name
}

// A name that resolves to loopback is refused: the check runs on the
// address the proxy connects to, after resolution.
func TestNameResolvingToLoopback(t *testing.T) {
	o := startCountingOrigin(t)
	name := hostsName(t)
	p := startProc(t, strict)
	for _, host := range []string{name, name + ".", strings.ToUpper(name)} {
		u := "http://" + host + ":" + portOf(o.addr) + "/x"
		code, _ := curl(t, "-x", "http://"+p.addr, "-o", "/dev/null", "-w", "%{http_code}", u)
		if code != "403" {
			t.Errorf("%s: got %s, want 403", u, code)
		}
	}
	status, _ := exchange(t, p.addr, "CONNECT "+name+":443 HTTP/1.1\r\nHost: "+name+":443\r\n\r\n")
	if status != 403 {
		t.Errorf("CONNECT %s:443: got %d, want 403", name, status)
	}
	if n := o.hits.Load(); n != 0 {
		t.Errorf("the origin saw %d requests, want 0", n)
	}
}

// A dst rule applies to every spelling of an address, 0.0.0.0 included,
// and to names on the addresses they resolve to.
func TestDstRulesOnResolvedAddress(t *testing.T) {
	o := startCountingOrigin(t)
	name := hostsName(t)
	port := portOf(o.addr)
	p := startProc(t, local+`
rules:
  - action: deny
    name: no-loopback
    dst: [127.0.0.0/8]
  - action: allow
`)
	for _, host := range []string{"127.0.0.1", "0.0.0.0", "127.1", "[::ffff:127.0.0.1]", "localhost", name} {
		u := "http://" + host + ":" + port + "/x"
		body, _ := curl(t, "-x", "http://"+p.addr, "--globoff", u)
		if !strings.Contains(body, "access denied by rule no-loopback") {
			t.Errorf("%s: got %q, want the no-loopback refusal", u, body)
		}
	}
	if n := o.hits.Load(); n != 0 {
		t.Errorf("the origin saw %d requests, want 0", n)
	}
	// An allow rule on dst lets a name through on its resolved address; the
	// rest is denied (the opposite of the last rule).
	p = startProc(t, local+`
rules:
  - action: allow
    name: only-loopback
    dst: [127.0.0.0/8]
`)
	if body, err := curl(t, "-x", "http://"+p.addr, "http://"+name+":"+port+"/x"); err != nil || body != "origin" {
		t.Errorf("%s allowed by dst: got %q, %v", name, body, err)
	}
}

// listenOrSkip listens on a fixed loopback address, or skips the test.
func listenOrSkip(t *testing.T, addr string) (net.Listener, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s (needs root and a free port): %v", addr, err)
	}
	var got atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				n, _ := io.Copy(io.Discard, c)
				got.Add(n + 1) // a connection counts even with no byte
			}()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return ln, &got
}

// An absolute-URI request to a port outside acl.safe_ports is refused and
// the service there sees nothing; acl.safe_ports opens it.
func TestUnsafePortRefused(t *testing.T) {
	_, got := listenOrSkip(t, "127.0.0.1:25")
	p := startProc(t, local)
	smtp := "HELO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nspam\r\n.\r\nQUIT\r\n"
	status, body := exchange(t, p.addr, fmt.Sprintf("POST http://127.0.0.1:25/ HTTP/1.1\r\nHost: 127.0.0.1:25\r\nContent-Length: %d\r\n\r\n%s", len(smtp), smtp))
	if status != 403 || !strings.Contains(body, "acl.safe_ports") {
		t.Errorf("POST to port 25: got %d %q, want 403 naming acl.safe_ports", status, body)
	}
	time.Sleep(100 * time.Millisecond) // a connection, had one been made, is counted by now
	if n := got.Load(); n != 0 {
		t.Errorf("the port 25 listener saw %d bytes/connections, want none", n)
	}

	p = startProc(t, local+"  safe_ports: [80, 25, 1025-65535]\n")
	status, _ = exchange(t, p.addr, "GET http://127.0.0.1:25/ HTTP/1.1\r\nHost: 127.0.0.1:25\r\nConnection: close\r\n\r\n")
	if status == 403 {
		t.Errorf("GET to port 25 with 25 in acl.safe_ports: got 403")
	}
	waitFor(t, func() bool { return got.Load() > 0 })
}

// CONNECT to loopback :443 is refused by default; nothing connects.
func TestConnectLoopbackRefused(t *testing.T) {
	_, got := listenOrSkip(t, "127.0.0.1:443")
	p := startProc(t, strict)
	for _, host := range []string{"127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "0.0.0.0", "2130706433"} {
		status, body := exchange(t, p.addr, "CONNECT "+host+":443 HTTP/1.1\r\nHost: "+host+":443\r\n\r\n")
		if status != 403 || !strings.Contains(body, "acl.allow_local_destinations") {
			t.Errorf("CONNECT %s:443: got %d %q, want 403 naming acl.allow_local_destinations", host, status, body)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if n := got.Load(); n != 0 {
		t.Errorf("the :443 listener saw %d bytes/connections, want none", n)
	}
	p = startProc(t, local)
	if status, _ := exchange(t, p.addr, "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n"); status != 200 {
		t.Errorf("CONNECT 127.0.0.1:443 with allow_local_destinations: got %d, want 200", status)
	}
}

// Bare-LF line endings and an invalid Host are the client's errors: 400,
// logged as NONE/400 and counted, never 502.
func TestParseCornersAre400(t *testing.T) {
	o := startCountingOrigin(t)
	logPath := filepath.Join(t.TempDir(), "access.log")
	p := startProc(t, "log:\n  path: "+logPath+"\n")
	for _, tc := range []struct{ name, req string }{
		{"bare LF", "GET http://" + o.addr + "/x HTTP/1.1\nHost: " + o.addr + "\n\n"},
		{"bare LF after the request line", "GET http://" + o.addr + "/x HTTP/1.1\r\nHost: " + o.addr + "\nX-A: b\r\n\r\n"},
		{"invalid Host", "GET http://" + o.addr + "/x HTTP/1.1\r\nHost: a b\r\n\r\n"},
		{"invalid Host port", "GET http://" + o.addr + "/x HTTP/1.1\r\nHost: h:port\r\n\r\n"},
	} {
		status, body := exchange(t, p.addr, tc.req)
		if status != 400 {
			t.Errorf("%s: got %d %q, want 400", tc.name, status, body)
		}
	}
	waitFor(t, func() bool {
		b, _ := os.ReadFile(logPath)
		return strings.Count(string(b), "NONE/400") >= 4
	})
	metrics, _ := curl(t, "http://"+p.admin+"/metrics")
	if !strings.Contains(metrics, `status="400"`) {
		t.Errorf("metrics lack the 400s:\n%s", grepLines(metrics, "edgeproxy_requests_total"))
	}
	if n := o.hits.Load(); n != 0 {
		t.Errorf("the origin saw %d requests, want 0", n)
	}
}

// Header names with "_" are dropped before forwarding unless
// underscores_in_headers is set (nginx's default).
func TestUnderscoreHeaders(t *testing.T) {
	o := startCountingOrigin(t)
	for _, tc := range []struct {
		yaml string
		want bool
	}{{"", false}, {"underscores_in_headers: false\n", false}, {"underscores_in_headers: true\n", true}} {
		p := startProc(t, tc.yaml)
		body, err := curl(t, "-x", "http://"+p.addr, "-H", "X_Forwarded_User: x", "-H", "X-Other: y", "http://"+o.addr+"/h")
		if err != nil || body != "origin" {
			t.Fatalf("%q: got %q, %v", tc.yaml, body, err)
		}
		o.mu.Lock()
		got := false
		for k := range o.last {
			got = got || strings.EqualFold(k, "X_Forwarded_User")
		}
		other := o.last.Get("X-Other")
		o.mu.Unlock()
		if got != tc.want || other != "y" {
			t.Errorf("%q: X_Forwarded_User forwarded %v, want %v (X-Other %q)", tc.yaml, got, tc.want, other)
		}
	}
}
