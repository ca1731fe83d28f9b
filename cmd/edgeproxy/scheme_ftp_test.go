package main

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ftpServerScript is a pyftpdlib server on 127.0.0.1: the anonymous user
// (unless disabled) reads argv[1]; "bob" with password "secret" reads and
// writes argv[2]. It prints its port, then serves.
const ftpServerScript = `
import sys, logging
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer
logging.basicConfig(level=logging.WARNING)
a = DummyAuthorizer()
if sys.argv[3] == "anonymous":
    a.add_anonymous(sys.argv[1])
a.add_user("bob", "secret", sys.argv[2], perm="elradfmwMT")
class H(FTPHandler):
    authorizer = a
    auth_failed_timeout = 0.01
s = FTPServer(("127.0.0.1", 0), H)
print(s.address[1], flush=True)
s.serve_forever()
`

// ftpServer is a running pyftpdlib server.
type ftpServer struct {
	port      string
	anon, bob string // the two users' root directories
}

// startFTPServer runs pyftpdlib (Debian's python3-pyftpdlib, for the
// system python3) for the test's lifetime.
func startFTPServer(t *testing.T, anonymous bool) *ftpServer {
	t.Helper()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import pyftpdlib").Run(); err != nil {
		t.Skip("python3-pyftpdlib not installed (make test-deps installs it)")
	}
	dir := t.TempDir()
	f := &ftpServer{anon: filepath.Join(dir, "anon"), bob: filepath.Join(dir, "bob")}
	for _, d := range []string{f.anon, f.bob} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(dir, "ftpd.py")
	if err := os.WriteFile(script, []byte(ftpServerScript), 0o644); err != nil {
		t.Fatal(err)
	}
	mode := "anonymous"
	if !anonymous {
		mode = "users"
	}
	cmd := exec.Command(py, script, f.anon, f.bob, mode)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("ftp server log:\n%s", logs.String())
		}
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(s)
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case f.port = <-line:
	case <-time.After(20 * time.Second):
		t.Fatalf("ftp server did not start:\n%s", logs.String())
	}
	if f.port == "" {
		t.Fatalf("ftp server did not start:\n%s", logs.String())
	}
	return f
}

// url is the ftp:// URL of path on the server, with userinfo when not empty.
func (f *ftpServer) url(userinfo, path string) string {
	if userinfo != "" {
		userinfo += "@"
	}
	return "ftp://" + userinfo + "127.0.0.1:" + f.port + path
}

// ftpProxyConfig admits the test server's port, and uploads when asked.
func ftpProxyConfig(f *ftpServer, upload bool, extra string) string {
	return fmt.Sprintf("ftp:\n  allowed_ports: [%s]\n  upload: %v\n%s", f.port, upload, extra)
}

// writeFile writes data under dir with a modification time a month back, so
// that heuristic freshness (10%% of the age, at most a day) keeps it fresh.
func writeFile(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-30 * 24 * time.Hour)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// curlFTP runs curl through the proxy and returns the status, the response
// header block and the body written to a file.
func curlFTP(t *testing.T, proxy string, args ...string) (status int, head string, body []byte) {
	t.Helper()
	dir := t.TempDir()
	hfile, bfile := filepath.Join(dir, "head"), filepath.Join(dir, "body")
	all := append([]string{"-x", "http://" + proxy, "-D", hfile, "-o", bfile, "-w", "%{http_code}"}, args...)
	out, err := curl(t, all...)
	if err != nil {
		t.Fatalf("curl %q: %v\n%s", args, err, out)
	}
	if _, err := fmt.Sscan(out, &status); err != nil {
		t.Fatalf("curl status %q: %v", out, err)
	}
	h, _ := os.ReadFile(hfile)
	body, _ = os.ReadFile(bfile)
	return status, string(h), body
}

// Issue 16: a 20 MiB file comes through curl intact, then from the cache;
// wget, with ftp_proxy, gets the same bytes.
func TestFTPLargeFileThenHit(t *testing.T) {
	f := startFTPServer(t, true)
	data := make([]byte, 20<<20)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	writeFile(t, f.anon, "big.bin", data)
	p := startProc(t, ftpProxyConfig(f, false, ""))

	status, head, body := curlFTP(t, p.addr, f.url("", "/big.bin"))
	if status != 200 || sha(body) != sha(data) {
		t.Fatalf("first fetch: status %d, %d bytes, sha256 %s; want 200, %d bytes, %s\n%s", status, len(body), sha(body), len(data), sha(data), head)
	}
	for _, want := range []string{"Content-Length: 20971520", "Content-Type: application/octet-stream", "Last-Modified: ", "X-Cache: MISS"} {
		if !strings.Contains(head, want) {
			t.Errorf("first fetch head lacks %q:\n%s", want, head)
		}
	}
	status, head, body = curlFTP(t, p.addr, f.url("", "/big.bin"))
	if status != 200 || sha(body) != sha(data) || !strings.Contains(head, "X-Cache: HIT") {
		t.Fatalf("second fetch: status %d, sha256 %s, want 200 %s from the cache:\n%s", status, sha(body), sha(data), head)
	}

	if _, err := exec.LookPath("wget"); err != nil {
		t.Skip("wget not installed (make test-deps installs it)")
	}
	out := filepath.Join(t.TempDir(), "big.bin")
	cmd := exec.Command("wget", "-q", "-O", out, f.url("", "/big.bin"))
	cmd.Env = append(os.Environ(), "ftp_proxy=http://"+p.addr, "no_proxy=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("wget: %v\n%s", err, b)
	}
	got, _ := os.ReadFile(out)
	if sha(got) != sha(data) {
		t.Fatalf("wget: got %d bytes, sha256 %s, want %s", len(got), sha(got), sha(data))
	}
}

// Issue 16: a directory is an HTML listing whose names are escaped and
// link to their own URLs; a missing file is 404 with the server's reply.
func TestFTPListingAndNotFound(t *testing.T) {
	f := startFTPServer(t, true)
	if err := os.MkdirAll(filepath.Join(f.anon, "pub", "sub dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(f.anon, "pub"), "a <b>&c.txt", []byte("x"))
	writeFile(t, filepath.Join(f.anon, "pub"), "readme.txt", []byte("read me\n"))
	p := startProc(t, ftpProxyConfig(f, false, ""))

	for _, u := range []string{f.url("", "/pub/"), f.url("", "/pub"), f.url("", "/pub;type=d")} {
		status, head, body := curlFTP(t, p.addr, u)
		page := string(body)
		if status != 200 || !strings.Contains(head, "Content-Type: text/html") {
			t.Fatalf("%s: status %d\n%s", u, status, head)
		}
		base := "ftp://127.0.0.1:" + f.port + "/pub/"
		for _, want := range []string{
			`<a href="` + base + `a%20%3Cb%3E%26c.txt">a &lt;b&gt;&amp;c.txt</a>`,
			`<a href="` + base + `readme.txt">readme.txt</a>`,
			`<a href="` + base + `sub%20dir/">sub dir/</a>`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("%s: listing lacks %q:\n%s", u, want, page)
			}
		}
		if strings.Contains(page, "<b>") {
			t.Errorf("%s: listing holds a raw name:\n%s", u, page)
		}
	}
	// lynx, with ftp_proxy, reads the listing and its links.
	if _, err := exec.LookPath("lynx"); err == nil {
		cmd := exec.Command("lynx", "-dump", "-nocolor", "-width=200", f.url("", "/pub/"))
		cmd.Env = append(os.Environ(), "ftp_proxy=http://"+p.addr+"/", "no_proxy=", "HOME="+t.TempDir(), "TERM=dumb")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "a <b>&c.txt") ||
			!strings.Contains(string(out), "ftp://127.0.0.1:"+f.port+"/pub/readme.txt") {
			t.Errorf("lynx -dump of the listing: %v\n%s", err, out)
		}
	}
	// A link from the listing works as it is.
	if status, _, body := curlFTP(t, p.addr, "ftp://127.0.0.1:"+f.port+"/pub/readme.txt"); status != 200 || string(body) != "read me\n" {
		t.Fatalf("linked file: status %d body %q", status, body)
	}

	status, _, body := curlFTP(t, p.addr, f.url("", "/pub/missing.txt"))
	if status != 404 || !strings.Contains(string(body), "550") {
		t.Fatalf("missing file: got %d %q, want 404 with the server's 550 reply", status, body)
	}
	// ;type=a is an ASCII transfer, served as text without a length.
	status, head, body := curlFTP(t, p.addr, f.url("", "/pub/readme.txt;type=a"))
	if status != 200 || !strings.Contains(string(body), "read me") || !strings.Contains(head, "Content-Type: text/plain") {
		t.Fatalf("type=a: got %d %q\n%s", status, body, head)
	}
}

// Issue 16: credentials in the URL log in; wrong ones are 403; a server
// without anonymous access is answered 401 with a Basic challenge, and the
// credentials that answer it (Authorization) log in. Nothing with
// credentials is stored, and the password never reaches the access log.
func TestFTPLogin(t *testing.T) {
	f := startFTPServer(t, false)
	writeFile(t, f.bob, "private.txt", []byte("only bob\n"))
	logPath := filepath.Join(t.TempDir(), "access.log")
	p := startProc(t, ftpProxyConfig(f, false, "log:\n  path: "+logPath+"\n"))

	status, head, body := curlFTP(t, p.addr, f.url("", "/private.txt"))
	if status != 401 || !strings.Contains(head, `WWW-Authenticate: Basic realm="FTP 127.0.0.1:`+f.port+`"`) {
		t.Fatalf("anonymous: got %d, want 401 with a Basic challenge\n%s%s", status, head, body)
	}
	basic := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("bob:secret"))
	if status, _, body := curlFTP(t, p.addr, "-H", basic, f.url("", "/private.txt")); status != 200 || string(body) != "only bob\n" {
		t.Fatalf("Authorization: got %d %q", status, body)
	}
	// A URL with a user and no password is challenged too, and the
	// answer's password goes with the URL's user.
	if status, head, _ := curlFTP(t, p.addr, "-H", "Authorization: Basic "+base64.StdEncoding.EncodeToString([]byte("bob:wrong")),
		f.url("bob", "/private.txt")); status != 401 || !strings.Contains(head, "WWW-Authenticate: Basic") {
		t.Fatalf("user without password, wrong Authorization: got %d, want 401\n%s", status, head)
	}
	if status, _, body := curlFTP(t, p.addr, "-H", basic, f.url("bob", "/private.txt")); status != 200 || string(body) != "only bob\n" {
		t.Fatalf("user in the URL, password in Authorization: got %d %q", status, body)
	}
	if status, _, body := curlFTP(t, p.addr, f.url("bob:secret", "/private.txt")); status != 200 || string(body) != "only bob\n" {
		t.Fatalf("URL credentials: got %d %q", status, body)
	}
	if status, _, body := curlFTP(t, p.addr, f.url("bob:wrong", "/private.txt")); status != 403 || !strings.Contains(string(body), "530") {
		t.Fatalf("wrong password: got %d %q, want 403 with the server's 530 reply", status, body)
	}
	if _, err := exec.LookPath("wget"); err == nil {
		out := filepath.Join(t.TempDir(), "p.txt")
		cmd := exec.Command("wget", "-q", "-O", out, f.url("bob:secret", "/private.txt"))
		cmd.Env = append(os.Environ(), "ftp_proxy=http://"+p.addr, "no_proxy=")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("wget: %v\n%s", err, b)
		}
		if got, _ := os.ReadFile(out); string(got) != "only bob\n" {
			t.Fatalf("wget: got %q", got)
		}
	}
	// Nothing fetched with credentials was stored: a request without them
	// is challenged again rather than answered from the cache.
	if status, _, _ := curlFTP(t, p.addr, f.url("", "/private.txt")); status != 401 {
		t.Fatalf("anonymous after logins: got %d, want 401", status)
	}
	log := waitForLog(t, logPath, 6)
	if strings.Contains(log, "secret") {
		t.Errorf("the access log holds the password:\n%s", log)
	}
	if !strings.Contains(log, "TCP_MISS/200") || !strings.Contains(log, "GET ftp://bob@127.0.0.1:"+f.port+"/private.txt") {
		t.Errorf("the access log lacks the FTP requests:\n%s", log)
	}
}

// waitForLog reads the access log once it has at least lines lines.
func waitForLog(t *testing.T, path string, lines int) string {
	t.Helper()
	var b []byte
	for i := 0; i < 100; i++ {
		b, _ = os.ReadFile(path)
		if strings.Count(string(b), "\n") >= lines {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return string(b)
}

// Issue 16: PUT stores a file (STOR) when ftp.upload is on, and is refused
// with 403 when it is off.
func TestFTPUpload(t *testing.T) {
	f := startFTPServer(t, true)
	src := filepath.Join(t.TempDir(), "up.txt")
	data := []byte(strings.Repeat("uploaded line\n", 10000)) // over limits.max_body_buffer: streamed
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "access.log")
	off := startProc(t, ftpProxyConfig(f, false, "log:\n  path: "+logPath+"\n"))
	if status, _, _ := curlFTP(t, off.addr, "-T", src, f.url("bob:secret", "/up.txt")); status != 403 {
		t.Fatalf("upload with ftp.upload off: got %d, want 403", status)
	}
	// The refusal is logged on the event loop, without the password.
	if log := waitForLog(t, logPath, 1); !strings.Contains(log, "TCP_DENIED/403") || strings.Contains(log, "secret") ||
		!strings.Contains(log, "PUT ftp://bob@127.0.0.1:"+f.port+"/up.txt") {
		t.Errorf("access log of the refused upload:\n%s", log)
	}
	if _, err := os.Stat(filepath.Join(f.bob, "up.txt")); err == nil {
		t.Fatal("the refused upload reached the server")
	}
	p := startProc(t, ftpProxyConfig(f, true, ""))
	if status, _, body := curlFTP(t, p.addr, "-T", src, f.url("bob:secret", "/up.txt")); status != 201 {
		t.Fatalf("upload: got %d %q, want 201", status, body)
	}
	got, err := os.ReadFile(filepath.Join(f.bob, "up.txt"))
	if err != nil || sha(got) != sha(data) {
		t.Fatalf("stored file: %d bytes %v, want %d", len(got), err, len(data))
	}
	// A small one, buffered before the upload.
	small := filepath.Join(t.TempDir(), "small.txt")
	_ = os.WriteFile(small, []byte("small\n"), 0o644)
	if status, _, _ := curlFTP(t, p.addr, "-T", small, f.url("bob:secret", "/small.txt")); status != 201 {
		t.Fatalf("small upload: got %d, want 201", status)
	}
	if got, _ := os.ReadFile(filepath.Join(f.bob, "small.txt")); string(got) != "small\n" {
		t.Fatalf("small upload stored %q", got)
	}
	// Anonymous may not write on this server: the 550-class refusal is not a success.
	if status, _, _ := curlFTP(t, p.addr, "-T", small, f.url("", "/small.txt")); status < 400 {
		t.Fatalf("anonymous upload: got %d, want an error", status)
	}
}

// Issue 16: only port 21 unless ftp.allowed_ports says otherwise, and the
// requests show in /metrics by scheme.
func TestFTPPortsAndMetrics(t *testing.T) {
	f := startFTPServer(t, true)
	writeFile(t, f.anon, "m.txt", []byte("m"))
	def := startProc(t, "")
	if status, _, _ := curlFTP(t, def.addr, f.url("", "/m.txt")); status != 403 {
		t.Fatalf("port %s with the default ftp.allowed_ports: got %d, want 403", f.port, status)
	}
	p := startProc(t, ftpProxyConfig(f, false, ""))
	for range 2 {
		if status, _, body := curlFTP(t, p.addr, f.url("", "/m.txt")); status != 200 || string(body) != "m" {
			t.Fatalf("got %d %q", status, body)
		}
	}
	waitMetric(t, p.admin, `edgeproxy_scheme_requests_total{scheme="ftp"} 2`)
}

// Issue 16: an FTP file is streamed with the bound HTTP bodies have: a
// 256 MiB file to a client that reads slowly does not make the proxy buffer
// it (the worker waits for the client, and the FTP server for the worker).
func TestFTPSlowReaderBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 256 MiB")
	}
	const size = 256 << 20
	f := startFTPServer(t, true)
	big, err := os.Create(filepath.Join(f.anon, "huge.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := big.Truncate(size); err != nil { // sparse: no disk needed
		t.Fatal(err)
	}
	big.Close()
	writeFile(t, f.anon, "warm.txt", []byte("warm"))
	p := startProc(t, ftpProxyConfig(f, false, "cache:\n  enabled: false\n"))
	if status, _, _ := curlFTP(t, p.addr, f.url("", "/warm.txt")); status != 200 {
		t.Fatalf("warm-up: got %d", status)
	}
	base := p.status(t, "VmHWM")

	if got := slowGet(t, p.addr, f.url("", "/huge.bin"), size); got != size {
		t.Fatalf("received %d bytes, want %d", got, size)
	}
	growth := p.status(t, "VmHWM") - base
	t.Logf("proxy peak RSS grew by %d KiB while relaying a 256 MiB FTP file to a slow reader", growth)
	if growth > 64<<10 {
		t.Errorf("peak RSS grew by %d KiB, want < 64 MiB", growth)
	}
}

// Issue 16: an FTP server that cannot be reached is a 502 naming the cause.
func TestFTPConnectRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close() // nothing listens there now
	p := startProc(t, "ftp:\n  allowed_ports: ["+port+"]\n")
	status, _, body := curlFTP(t, p.addr, "ftp://127.0.0.1:"+port+"/f")
	if status != 502 || !strings.Contains(string(body), "refused") {
		t.Fatalf("got %d %q, want 502 naming the refusal", status, body)
	}
}

// Issue 16 with issue 17: cache.refresh_rules match ftp:// URLs as they
// match http:// ones, so a file modified just now (no heuristic lifetime
// of its own) is kept for the rule's minimum.
func TestFTPRefreshRules(t *testing.T) {
	f := startFTPServer(t, true)
	if err := os.WriteFile(filepath.Join(f.anon, "new.txt"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	rules := "cache:\n  refresh_rules:\n    - pattern: '^ftp://[^/]+/new\\.txt$'\n      min: 1h\n      percent: 20\n      max: 24h\n"
	p := startProc(t, ftpProxyConfig(f, false, rules))
	if status, head, body := curlFTP(t, p.addr, f.url("", "/new.txt")); status != 200 || string(body) != "new" || !strings.Contains(head, "X-Cache: MISS") {
		t.Fatalf("first: got %d %q\n%s", status, body, head)
	}
	if status, head, body := curlFTP(t, p.addr, f.url("", "/new.txt")); status != 200 || string(body) != "new" || !strings.Contains(head, "X-Cache: HIT") {
		t.Fatalf("second: got %d %q, want a hit under the refresh rule\n%s", status, body, head)
	}
}
