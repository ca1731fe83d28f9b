package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// gopherServer is a small Gopher server (RFC 1436) on 127.0.0.1 that
// remembers every request line it read.
type gopherServer struct {
	ln   net.Listener
	port string
	mu   sync.Mutex
	seen []string
}

func startGopher(t *testing.T) *gopherServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gopherServer{ln: ln}
	_, g.port, _ = net.SplitHostPort(ln.Addr().String())
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go g.serve(c)
		}
	}()
	return g
}

func (g *gopherServer) selectors() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.seen...)
}

func (g *gopherServer) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	// Read everything the client sends within a moment, so that a
	// smuggled second line would be seen too.
	line, err := bufio.NewReader(c).ReadString('\n')
	g.mu.Lock()
	g.seen = append(g.seen, line)
	g.mu.Unlock()
	if err != nil {
		return
	}
	sel := strings.TrimRight(line, "\r\n")
	item := func(typ byte, display, selector string) string {
		return fmt.Sprintf("%c%s\t%s\t127.0.0.1\t%s\r\n", typ, display, selector, g.port)
	}
	switch {
	case sel == "" || sel == "/":
		io.WriteString(c, "iWelcome to <the> test hole\t\terror.host\t1\r\n"+
			item('0', "Hello text", "/hello.txt")+
			item('1', "Sub menu", "/sub")+
			item('7', "Search here", "/find")+
			"hWeb link\tURL:http://example.org/page\t127.0.0.1\t"+g.port+"\r\n"+
			item('9', "Binary blob", "/blob.bin")+
			".\r\n")
	case sel == "/hello.txt":
		io.WriteString(c, "Hello from gopher\r\nsecond line\r\n.\r\n")
	case sel == "/sub":
		io.WriteString(c, item('0', "Deeper text", "/deep.txt")+".\r\n")
	case sel == "/deep.txt":
		io.WriteString(c, "deep text\r\n.\r\n")
	case strings.HasPrefix(sel, "/find\t"):
		q := strings.TrimPrefix(sel, "/find\t")
		io.WriteString(c, item('0', "Result for "+q, "/hello.txt")+".\r\n")
	case sel == "/blob.bin":
		c.Write([]byte{0, 1, 2, 3, 0xff})
	default:
		io.WriteString(c, "3Not found: "+sel+"\t\terror.host\t1\r\n.\r\n")
	}
}

// gopherGet sends GET url through the proxy on a raw connection, as lynx
// does with gopher_proxy (curl would tunnel gopher:// through CONNECT).
func gopherGet(t *testing.T, proxy, url string) (status int, head string, body []byte) {
	t.Helper()
	c, err := net.Dial("tcp", proxy)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	host := strings.SplitN(strings.SplitN(url, "://", 2)[1], "/", 2)[0]
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", url, host)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", url, err)
	}
	var b strings.Builder
	_ = resp.Header.Write(&b)
	return resp.StatusCode, b.String(), body
}

func gopherProxyConfig(g *gopherServer, extra string) string {
	return fmt.Sprintf("gopher:\n  allowed_ports: [%s]\n%s", g.port, extra)
}

// lynxDump runs lynx -dump through the proxy as its gopher_proxy.
func lynxDump(t *testing.T, proxy, url string) string {
	t.Helper()
	if _, err := exec.LookPath("lynx"); err != nil {
		t.Skip("lynx not installed (make test-deps installs it)")
	}
	cmd := exec.Command("lynx", "-dump", "-nocolor", "-width=200", url)
	cmd.Env = append(os.Environ(), "gopher_proxy=http://"+proxy+"/", "no_proxy=", "HOME="+t.TempDir(), "TERM=dumb")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("lynx -dump %s: %v\n%s", url, err, out)
	}
	return string(out)
}

// Issue 16: lynx, with gopher_proxy, reads a menu rendered as HTML with
// working links, and follows one to a text item.
func TestGopherMenuWithLynx(t *testing.T) {
	g := startGopher(t)
	logPath := filepath.Join(t.TempDir(), "access.log")
	p := startProc(t, gopherProxyConfig(g, "log:\n  path: "+logPath+"\n"))
	root := "gopher://127.0.0.1:" + g.port + "/1/"
	page := lynxDump(t, p.addr, root)
	for _, want := range []string{
		"Welcome to <the> test hole",
		"Hello text", "Sub menu", "Search here", "Web link", "Binary blob",
		"gopher://127.0.0.1:" + g.port + "/0/hello.txt",
		"gopher://127.0.0.1:" + g.port + "/1/sub",
		"gopher://127.0.0.1:" + g.port + "/7/find",
		"http://example.org/page",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("lynx page lacks %q:\n%s", want, page)
		}
	}
	// The menu's links work: the text item, a submenu and its item.
	if text := lynxDump(t, p.addr, "gopher://127.0.0.1:"+g.port+"/0/hello.txt"); !strings.Contains(text, "Hello from gopher") {
		t.Errorf("text item through lynx:\n%s", text)
	}
	sub := lynxDump(t, p.addr, "gopher://127.0.0.1:"+g.port+"/1/sub")
	if !strings.Contains(sub, "gopher://127.0.0.1:"+g.port+"/0/deep.txt") {
		t.Errorf("submenu through lynx:\n%s", sub)
	}
	log := waitForLog(t, logPath, 3)
	if !strings.Contains(log, "GET gopher://127.0.0.1:"+g.port+"/1/ ") || !strings.Contains(log, "HIER_DIRECT/127.0.0.1 ") {
		t.Errorf("the access log lacks the Gopher requests:\n%s", log)
	}
}

// Issue 16: a text item is text/plain without the closing "." line, a
// binary item passes through as it is, a search sends selector TAB words,
// and the answers are cached for gopher.max_age.
func TestGopherItems(t *testing.T) {
	g := startGopher(t)
	p := startProc(t, gopherProxyConfig(g, "  max_age: 90s\n"))
	base := "gopher://127.0.0.1:" + g.port
	status, head, body := gopherGet(t, p.addr, base+"/0/hello.txt")
	if status != 200 || string(body) != "Hello from gopher\r\nsecond line\r\n" {
		t.Fatalf("text item: got %d %q", status, body)
	}
	for _, want := range []string{"Content-Type: text/plain", "Cache-Control: max-age=90", "X-Cache: MISS"} {
		if !strings.Contains(head, want) {
			t.Errorf("text item head lacks %q:\n%s", want, head)
		}
	}
	status, head, body = gopherGet(t, p.addr, base+"/0/hello.txt")
	if status != 200 || !strings.Contains(head, "X-Cache: HIT") || string(body) != "Hello from gopher\r\nsecond line\r\n" {
		t.Fatalf("text item again: got %d %q, want a hit\n%s", status, body, head)
	}
	status, head, body = gopherGet(t, p.addr, base+"/9/blob.bin")
	if status != 200 || string(body) != "\x00\x01\x02\x03\xff" || !strings.Contains(head, "Content-Type: application/octet-stream") {
		t.Fatalf("binary item: got %d %q\n%s", status, body, head)
	}
	status, _, body = gopherGet(t, p.addr, base+"/7/find?two%20words")
	if status != 200 || !strings.Contains(string(body), "Result for two words") {
		t.Fatalf("search: got %d %q", status, body)
	}
	status, _, body = gopherGet(t, p.addr, base+"/7/find")
	if status != 200 || !strings.Contains(string(body), `<form method="get" action="`+base+`/7/find">`) {
		t.Fatalf("search form: got %d %q", status, body)
	}
}

// Issue 16: a selector holding CR, LF, TAB or NUL is refused with 400 and
// never reaches the server: gopher:// URLs are the classic way to make a
// proxy speak SMTP or Redis to a third service.
func TestGopherRefusesSmuggledSelectors(t *testing.T) {
	g := startGopher(t)
	p := startProc(t, gopherProxyConfig(g, ""))
	base := "gopher://127.0.0.1:" + g.port
	for _, path := range []string{
		"/_SET%20k%20v%0D%0AQUIT",
		"/0/a%0Ab",
		"/0/a%0Db",
		"/1/a%09b",
		"/0/a%00b",
		"/7/find?x%0D%0AQUIT",
	} {
		status, _, body := gopherGet(t, p.addr, base+path)
		if status != 400 {
			t.Errorf("%s: got %d %q, want 400", path, status, body)
		}
	}
	if seen := g.selectors(); len(seen) != 0 {
		t.Errorf("the server received %q", seen)
	}
	// Only port 70 unless gopher.allowed_ports says otherwise.
	def := startProc(t, "")
	if status, _, _ := gopherGet(t, def.addr, base+"/1/"); status != 403 {
		t.Errorf("port %s with the default gopher.allowed_ports: got %d, want 403", g.port, status)
	}
}

// Issue 16: Gopher requests show in /metrics by scheme.
func TestGopherMetrics(t *testing.T) {
	g := startGopher(t)
	p := startProc(t, gopherProxyConfig(g, ""))
	for range 3 {
		if status, _, _ := gopherGet(t, p.addr, "gopher://127.0.0.1:"+g.port+"/1/"); status != 200 {
			t.Fatalf("menu: got %d", status)
		}
	}
	waitMetric(t, p.admin, `edgeproxy_scheme_requests_total{scheme="gopher"} 3`)
}

// Issue 16 with issue 11: FTP and Gopher fetches dial through the
// destination policy, so a name that resolves to loopback is refused after
// resolution unless acl.allow_local_destinations is set, and nothing
// reaches the servers.
func TestSchemesDestinationPolicy(t *testing.T) {
	g := startGopher(t)
	f := startFTPServer(t, true)
	writeFile(t, f.anon, "x.txt", []byte("x"))
	name := hostsName(t)
	cfg := gopherProxyConfig(g, "") + "ftp:\n  allowed_ports: [" + f.port + "]\n"
	p := startProc(t, cfg+"acl:\n  allow_local_destinations: false\n")
	if status, _, body := gopherGet(t, p.addr, "gopher://"+name+":"+g.port+"/1/"); status != 403 {
		t.Errorf("gopher to a loopback name: got %d %q, want 403", status, body)
	}
	if status, _, body := curlFTP(t, p.addr, "ftp://"+name+":"+f.port+"/x.txt"); status != 403 {
		t.Errorf("ftp to a loopback name: got %d %q, want 403", status, body)
	}
	if seen := g.selectors(); len(seen) != 0 {
		t.Errorf("the gopher server received %q", seen)
	}
	// With loopback allowed, the same URLs are served.
	p = startProc(t, cfg)
	if status, _, body := gopherGet(t, p.addr, "gopher://"+name+":"+g.port+"/1/"); status != 200 {
		t.Errorf("gopher with allow_local_destinations: got %d %q, want 200", status, body)
	}
	if status, _, body := curlFTP(t, p.addr, "ftp://"+name+":"+f.port+"/x.txt"); status != 200 || string(body) != "x" {
		t.Errorf("ftp with allow_local_destinations: got %d %q, want 200", status, body)
	}
}

// waitMetric waits until /metrics holds line: a request is counted when
// its worker finishes, which may be just after the client has the answer.
func waitMetric(t *testing.T, admin, line string) {
	t.Helper()
	var b []byte
	for i := 0; i < 100; i++ {
		resp, err := http.Get("http://" + admin + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), line+"\n") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("/metrics lacks %q:\n%s", line, grepLines(string(b), "scheme"))
}
