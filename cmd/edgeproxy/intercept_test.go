package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Issue 15: interception. These tests build three network namespaces, a
// client, a gateway running edgeproxy and an origin, joined by veth pairs
// on documentation address ranges only:
//
//	client 192.0.2.2 ── 192.0.2.1 gateway 198.51.100.1 ── 198.51.100.2, .3 origin
//
// The gateway's nftables redirect the client's ports 80 and 443 to the
// intercept listener and deliver ports 8080 and 8443 to the tproxy listener; the
// client uses no proxy setting at all. The origin is this test binary run
// again inside the origin namespace (originHelperEnv), serving HTTP on 80
// and 8080 and TLS on 443 and 8443, and printing one line per request it serves.

const originHelperEnv = "EDGEPROXY_TEST_NETNS_ORIGIN"

func init() {
	if os.Getenv(originHelperEnv) == "1" {
		runOriginHelper()
		os.Exit(0)
	}
}

// runOriginHelper serves the namespaced origin until stdin closes. Every
// answer names the address it was served on and the client's address, and
// is cacheable; each request is printed as "REQ local remote host path",
// each TLS handshake as "TLS remote sni".
func runOriginHelper() {
	out := make(chan string, 64)
	go func() {
		w := bufio.NewWriter(os.Stdout)
		for l := range out {
			_, _ = w.WriteString(l + "\n")
			_ = w.Flush()
		}
	}()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		local := r.Context().Value(http.LocalAddrContextKey).(net.Addr).String()
		out <- fmt.Sprintf("REQ %s %s %s %s", local, r.RemoteAddr, r.Host, r.URL.Path)
		if strings.HasPrefix(r.URL.Path, "/swr") {
			w.Header().Set("Cache-Control", "max-age=1, stale-while-revalidate=60")
		} else {
			w.Header().Set("Cache-Control", "max-age=300")
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "served by %s to %s for %s%s\n", local, r.RemoteAddr, r.Host, r.URL.Path)
	})
	for _, a := range []string{":80", ":8080"} {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		go func() { _ = (&http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}).Serve(ln) }()
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "secure.test"},
		DNSNames: []string{"secure.test", "blocked.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cfg := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		GetConfigForClient: func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
			out <- fmt.Sprintf("TLS %s %s", hi.Conn.RemoteAddr(), hi.ServerName)
			return nil, nil
		},
	}
	for _, a := range []string{":443", ":8443"} {
		ln, err := tls.Listen("tcp", a, cfg)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		go func() { _ = (&http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}).Serve(ln) }()
	}
	out <- "READY"
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // the test closes stdin to stop us
}

// netnsLab is the three namespaces and what runs in them.
type netnsLab struct {
	client, gw, origin string
	originLog          *logBuffer
	proxyLog           *logBuffer
	accessLog          string
}

// runCmd runs a command, failing the test with its output on error.
func runCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// nsRun runs args inside namespace ns.
func nsRun(t *testing.T, ns string, args ...string) {
	t.Helper()
	runCmd(t, append([]string{"ip", "netns", "exec", ns}, args...)...)
}

// newNetnsLab builds the namespaces, links and routes, and starts the
// origin. It skips unless the test runs as root with ip netns and nft.
func newNetnsLab(t *testing.T) *netnsLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("interception tests need root (network namespaces)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("interception tests need ip (iproute2)")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("interception tests need nft (nftables; make test-deps installs it)")
	}
	id := strconv.Itoa(os.Getpid() % 100000)
	lab := &netnsLab{client: "epc" + id, gw: "epg" + id, origin: "epo" + id, originLog: &logBuffer{}, proxyLog: &logBuffer{}}
	if out, err := exec.Command("ip", "netns", "add", lab.client).CombinedOutput(); err != nil {
		t.Skipf("ip netns is unavailable: %v %s", err, out)
	}
	t.Cleanup(func() {
		for _, ns := range []string{lab.client, lab.gw, lab.origin} {
			_ = exec.Command("ip", "netns", "del", ns).Run()
		}
		_ = os.RemoveAll(filepath.Join("/etc/netns", lab.gw))
	})
	runCmd(t, "ip", "netns", "add", lab.gw)
	runCmd(t, "ip", "netns", "add", lab.origin)
	// Veth names are per namespace once moved; they are created in the
	// root namespace, so they carry the id.
	cg, gc, go_, og := "c"+id, "g"+id, "h"+id, "o"+id
	runCmd(t, "ip", "link", "add", cg, "netns", lab.client, "type", "veth", "peer", "name", gc, "netns", lab.gw)
	runCmd(t, "ip", "link", "add", go_, "netns", lab.gw, "type", "veth", "peer", "name", og, "netns", lab.origin)
	for _, c := range [][]string{
		{lab.client, "ip", "addr", "add", "192.0.2.2/24", "dev", cg},
		{lab.client, "ip", "link", "set", cg, "up"},
		{lab.client, "ip", "link", "set", "lo", "up"},
		{lab.client, "ip", "route", "add", "default", "via", "192.0.2.1"},
		{lab.gw, "ip", "addr", "add", "192.0.2.1/24", "dev", gc},
		{lab.gw, "ip", "addr", "add", "198.51.100.1/24", "dev", go_},
		{lab.gw, "ip", "link", "set", gc, "up"},
		{lab.gw, "ip", "link", "set", go_, "up"},
		{lab.gw, "ip", "link", "set", "lo", "up"},
		{lab.gw, "sysctl", "-qw", "net.ipv4.ip_forward=1"},
		{lab.gw, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0"},
		{lab.gw, "ip", "rule", "add", "fwmark", "1", "lookup", "100"},
		{lab.gw, "ip", "route", "add", "local", "0.0.0.0/0", "dev", "lo", "table", "100"},
		{lab.origin, "ip", "addr", "add", "198.51.100.2/24", "dev", og},
		{lab.origin, "ip", "addr", "add", "198.51.100.3/24", "dev", og},
		{lab.origin, "ip", "link", "set", og, "up"},
		{lab.origin, "ip", "link", "set", "lo", "up"},
		{lab.origin, "ip", "route", "add", "default", "via", "198.51.100.1"},
	} {
		nsRun(t, c[0], c[1:]...)
	}
	rules := filepath.Join(t.TempDir(), "gw.nft")
	nft := fmt.Sprintf(`table ip edgeproxy {
	chain divert {
		type filter hook prerouting priority mangle; policy accept;
		meta l4proto tcp socket transparent 1 meta mark set 1 accept
		iifname %q tcp dport { 8080, 8443 } tproxy to :3130 meta mark set 1 accept
	}
	chain natpre {
		type nat hook prerouting priority dstnat; policy accept;
		iifname %q tcp dport { 80, 443 } redirect to :3129
	}
}
`, gc, gc)
	if err := os.WriteFile(rules, []byte(nft), 0o644); err != nil {
		t.Fatal(err)
	}
	nsRun(t, lab.gw, "nft", "-f", rules)
	// The gateway resolves the names the clients' Host fields carry:
	// ip netns exec bind-mounts /etc/netns/<ns>/hosts over /etc/hosts.
	if err := os.MkdirAll(filepath.Join("/etc/netns", lab.gw), 0o755); err != nil {
		t.Fatal(err)
	}
	hosts := "127.0.0.1 localhost\n198.51.100.2 origin.test secure.test blocked.test\n"
	if err := os.WriteFile(filepath.Join("/etc/netns", lab.gw, "hosts"), []byte(hosts), 0o644); err != nil {
		t.Fatal(err)
	}
	lab.startOrigin(t)
	return lab
}

// startOrigin runs this test binary as the origin inside its namespace.
func (lab *netnsLab) startOrigin(t *testing.T) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", lab.origin, self)
	cmd.Env = append(os.Environ(), originHelperEnv+"=1")
	cmd.Stdout, cmd.Stderr = lab.originLog, lab.originLog
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("origin log:\n%s", lab.originLog.String())
		}
	})
	nsWaitFor(t, "origin ready", func() bool { return strings.Contains(lab.originLog.String(), "READY") })
}

// startProxy runs edgeproxy in the gateway namespace with the intercept
// listener on 3129 and the tproxy one on 3130, plus extra YAML.
func (lab *netnsLab) startProxy(t *testing.T, extra string) {
	t.Helper()
	dir := t.TempDir()
	allow := filepath.Join(dir, "allow.txt")
	if err := os.WriteFile(allow, []byte("192.0.2.0/24\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lab.accessLog = filepath.Join(dir, "access.log")
	cfg := filepath.Join(dir, "edgeproxy.yaml")
	yaml := fmt.Sprintf(`listeners:
  - {address: "127.0.0.1:3128", mode: forward}
  - {address: ":3129", mode: intercept}
  - {address: ":3130", mode: tproxy}
admin: "127.0.0.1:9128"
name: netns-test
acl:
  allow_file: %q
log:
  path: %q
%s`, allow, lab.accessLog, extra)
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", lab.gw, binary, "--config", cfg)
	cmd.Stdout, cmd.Stderr = lab.proxyLog, lab.proxyLog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if strings.Contains(lab.proxyLog.String(), "DATA RACE") { // a binary built with -race
			t.Error("the proxy reported a data race")
		}
		if t.Failed() {
			t.Logf("proxy log:\n%s", lab.proxyLog.String())
		}
		if t.Failed() || testing.Verbose() {
			b, _ := os.ReadFile(lab.accessLog)
			t.Logf("access log:\n%s", b)
		}
	})
	nsWaitFor(t, "proxy listening", func() bool { return strings.Contains(lab.proxyLog.String(), "edgeproxy listening") })
}

// curlFrom runs curl in the client namespace, with no proxy setting, and
// returns the response head and body.
func (lab *netnsLab) curlFrom(t *testing.T, args ...string) (string, error) {
	t.Helper()
	full := append([]string{"netns", "exec", lab.client, "curl", "-sS", "-i", "--noproxy", "*", "--max-time", "10"}, args...)
	cmd := exec.Command("ip", full...)
	cmd.Env = append(os.Environ(), "http_proxy=", "https_proxy=", "HTTP_PROXY=", "HTTPS_PROXY=", "all_proxy=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// originCount waits until the origin has printed at least want REQ lines
// with every part (its output reaches the test through a pipe, possibly
// after curl has the answer), then returns how many it printed.
func (lab *netnsLab) originCount(t *testing.T, want int, parts ...string) int {
	t.Helper()
	for i := 0; i < 200 && lab.originRequests(parts...) < want; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	return lab.originRequests(parts...)
}

// originRequests counts the origin's REQ lines containing every part.
func (lab *netnsLab) originRequests(parts ...string) int {
	n := 0
	for _, l := range strings.Split(lab.originLog.String(), "\n") {
		if !strings.HasPrefix(l, "REQ ") {
			continue
		}
		match := true
		for _, p := range parts {
			match = match && strings.Contains(l, p)
		}
		if match {
			n++
		}
	}
	return n
}

// nsWaitFor polls cond for up to 10 seconds, a hang guard only.
func nsWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// accessLogHas waits until the access log has a line with every part.
func (lab *netnsLab) accessLogHas(t *testing.T, parts ...string) {
	t.Helper()
	nsWaitFor(t, "access log line with "+strings.Join(parts, ", "), func() bool {
		b, _ := os.ReadFile(lab.accessLog)
		for _, l := range strings.Split(string(b), "\n") {
			match := l != ""
			for _, p := range parts {
				match = match && strings.Contains(l, p)
			}
			if match {
				return true
			}
		}
		return false
	})
}

// Issue 15: one lab, one proxy, each behaviour the issue names.
func TestInterception(t *testing.T) {
	lab := newNetnsLab(t)
	lab.startProxy(t, `tunnel: {allowed_ports: [443, 8443]}
rules:
  - {action: deny, domains: [blocked.test], name: no-blocked}
`)
	resolve := "origin.test:80:198.51.100.2"

	t.Run("plain HTTP is served and cached", func(t *testing.T) {
		for i, want := range []string{"MISS", "HIT"} {
			out, err := lab.curlFrom(t, "--resolve", resolve, "http://origin.test/obj")
			if err != nil {
				t.Fatalf("request %d: %v\n%s", i+1, err, out)
			}
			if !strings.Contains(out, "served by 198.51.100.2:80") || !strings.Contains(out, "X-Cache: "+want) {
				t.Fatalf("request %d: got %q, want an answer from 198.51.100.2 with X-Cache: %s", i+1, out, want)
			}
		}
		if got := lab.originCount(t, 1, "origin.test /obj"); got != 1 {
			t.Errorf("origin saw %d requests for /obj, want 1", got)
		}
		lab.accessLogHas(t, "http://origin.test/obj", "TCP_MEM_HIT")
	})

	t.Run("a forged Host gets the real answer and leaves the cache alone", func(t *testing.T) {
		// The client connects to 198.51.100.3 but names origin.test,
		// which resolves to 198.51.100.2: the request goes where the
		// client sent it and is neither served from nor stored in the cache.
		for i := 0; i < 2; i++ {
			out, err := lab.curlFrom(t, "-H", "Host: origin.test", "http://198.51.100.3/obj")
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !strings.Contains(out, "served by 198.51.100.3:80") || strings.Contains(out, "X-Cache: HIT") {
				t.Fatalf("forged request %d: got %q, want the answer of 198.51.100.3, not from the cache", i+1, out)
			}
		}
		if got := lab.originCount(t, 2, "198.51.100.3:80", "origin.test /obj"); got != 2 {
			t.Errorf("198.51.100.3 saw %d forged requests, want 2 (never cached)", got)
		}
		// Nor does a forged unsafe method invalidate the stored object.
		if out, err := lab.curlFrom(t, "-X", "POST", "-d", "x", "-H", "Host: origin.test", "http://198.51.100.3/obj"); err != nil ||
			!strings.Contains(out, "served by 198.51.100.3:80") {
			t.Fatalf("forged POST: got %q, %v", out, err)
		}
		out, err := lab.curlFrom(t, "--resolve", resolve, "http://origin.test/obj")
		if err != nil || !strings.Contains(out, "served by 198.51.100.2:80") || !strings.Contains(out, "X-Cache: HIT") {
			t.Fatalf("after the forgery: got %q, %v; want the cached answer of 198.51.100.2", out, err)
		}
		if got := lab.originCount(t, 1, "198.51.100.2:80", "origin.test /obj"); got != 1 {
			t.Errorf("198.51.100.2 saw %d requests for /obj, want 1", got)
		}
	})

	t.Run("a stale object is revalidated at the original destination", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			out, err := lab.curlFrom(t, "--resolve", resolve, "http://origin.test/swr")
			if err != nil || !strings.Contains(out, "served by 198.51.100.2:80") {
				t.Fatalf("request %d: got %q, %v", i+1, out, err)
			}
			if i == 0 {
				time.Sleep(2100 * time.Millisecond) // max-age=1 passes
			}
		}
		nsWaitFor(t, "the background revalidation", func() bool {
			return lab.originRequests("198.51.100.2:80", "origin.test /swr") == 2
		})
	})

	t.Run("HTTPS is spliced to the origin and logged by SNI", func(t *testing.T) {
		out, err := lab.curlFrom(t, "-k", "--resolve", "secure.test:443:198.51.100.2", "https://secure.test/tls")
		if err != nil || !strings.Contains(out, "served by 198.51.100.2:443") {
			t.Fatalf("got %q, %v; want the TLS origin's answer", out, err)
		}
		nsWaitFor(t, "the TLS origin's handshake from the gateway", func() bool {
			return strings.Contains(lab.originLog.String(), "TLS 198.51.100.1:")
		})
		lab.accessLogHas(t, "CONNECT secure.test:443", "TCP_TUNNEL", "198.51.100.2")
	})

	t.Run("a rule denying the SNI name refuses the connection", func(t *testing.T) {
		before := strings.Count(lab.originLog.String(), "TLS ")
		out, err := lab.curlFrom(t, "-k", "--resolve", "blocked.test:443:198.51.100.2", "https://blocked.test/")
		if err == nil {
			t.Fatalf("got %q, want the connection refused", out)
		}
		lab.accessLogHas(t, "CONNECT blocked.test:443", "TCP_DENIED")
		if after := strings.Count(lab.originLog.String(), "TLS "); after != before {
			t.Errorf("the origin saw a handshake for the denied name")
		}
	})

	t.Run("a request to the proxy's own port is a loop", func(t *testing.T) {
		out, err := lab.curlFrom(t, "http://192.0.2.1:3129/")
		if err != nil || !strings.Contains(out, " 508 ") {
			t.Fatalf("got %q, %v; want 508", out, err)
		}
	})

	t.Run("tproxy: the origin sees the client's address", func(t *testing.T) {
		out, err := lab.curlFrom(t, "--resolve", "origin.test:8080:198.51.100.2", "http://origin.test:8080/who")
		if err != nil || !strings.Contains(out, "served by 198.51.100.2:8080 to 192.0.2.2:") {
			t.Fatalf("got %q, %v; want an answer served to 192.0.2.2", out, err)
		}
		if got := lab.originCount(t, 1, "198.51.100.2:8080 192.0.2.2:", "origin.test:8080 /who"); got != 1 {
			t.Errorf("origin saw %d requests from 192.0.2.2, want 1", got)
		}
	})

	t.Run("tproxy: an uncacheable request leaves from the client's address too", func(t *testing.T) {
		// A forged Host makes the request uncacheable: it still goes to the
		// address the client connected to, from the client's address.
		out, err := lab.curlFrom(t, "-H", "Host: origin.test:8080", "http://198.51.100.3:8080/forged")
		if err != nil || !strings.Contains(out, "served by 198.51.100.3:8080 to 192.0.2.2:") {
			t.Fatalf("got %q, %v; want the answer of 198.51.100.3 served to 192.0.2.2", out, err)
		}
	})

	t.Run("tproxy: a TLS origin sees the client's address", func(t *testing.T) {
		out, err := lab.curlFrom(t, "-k", "--resolve", "secure.test:8443:198.51.100.2", "https://secure.test:8443/tls")
		if err != nil || !strings.Contains(out, "served by 198.51.100.2:8443 to 192.0.2.2:") {
			t.Fatalf("got %q, %v; want the TLS origin's answer, served to 192.0.2.2", out, err)
		}
		nsWaitFor(t, "the TLS origin's handshake from the client's address", func() bool {
			return strings.Contains(lab.originLog.String(), "TLS 192.0.2.2:")
		})
		lab.accessLogHas(t, "CONNECT secure.test:8443", "TCP_TUNNEL")
	})
}

// Issue 15: proxy authentication cannot work on intercepted traffic, whose
// clients never send Proxy-Authorization; check and start-up say so.
func TestCheckRefusesAuthWithInterception(t *testing.T) {
	dir := t.TempDir()
	htpasswd := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(htpasswd, []byte("carol:{SHA}yMoPICcM7ttRggS4O4C64x6kYGo=\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "edgeproxy.yaml")
	yaml := "admin: \"off\"\nlisteners:\n  - {address: \"127.0.0.1:0\"}\n  - {address: \"127.0.0.1:3129\", mode: intercept}\n" +
		"auth: {basic_file: " + htpasswd + "}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check", "--config", cfg}, {"--config", cfg}} {
		code, _, stderr := runBinary(t, args...)
		if code == 0 || !strings.Contains(stderr, "listeners") || !strings.Contains(stderr, "cannot work with an intercept or tproxy listener") {
			t.Errorf("%v: got exit %d, %q; want a failure naming the listeners error", args, code, stderr)
		}
	}
}
