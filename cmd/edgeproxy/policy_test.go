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
	"syscall"
	"testing"
	"time"
)

// authFixtures are the password files of engine/auth's tests.
var authFixtures = filepath.Join("..", "..", "engine", "auth", "testdata")

// A client outside the allow list, or on the deny list, is refused with 403
// and nothing is forwarded.
func TestClientLists(t *testing.T) {
	var hits int
	var mu sync.Mutex
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	dir := t.TempDir()
	allow := filepath.Join(dir, "allow.txt")
	deny := filepath.Join(dir, "deny.txt")
	_ = os.WriteFile(allow, []byte("# only a private range\n10.0.0.0/8\n"), 0o644)
	_ = os.WriteFile(deny, []byte("127.0.0.1\n"), 0o644)
	for _, tc := range []struct{ name, yaml string }{
		{"outside the allow list", "acl:\n  allow_file: " + allow + "\n"},
		{"on the deny list", "acl:\n  deny_file: " + deny + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startProc(t, tc.yaml)
			out, _ := curl(t, "-x", "http://"+p.addr, "-o", "/dev/null", "-w", "%{http_code}", "http://"+origin+"/")
			if out != "403" {
				t.Errorf("got %q, want 403", out)
			}
		})
	}
	if hits != 0 {
		t.Errorf("origin saw %d requests from refused clients", hits)
	}
}

// Destination rules: a denied domain and a denied URL pattern get 403 with
// a page naming the rule; other requests pass.
func TestDestinationRules(t *testing.T) {
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	p := startProc(t, `
rules:
  - action: deny
    name: no-ads
    domains: [ads.example.com]
  - action: deny
    name: no-exe
    url_regex: ['\.exe$']
  - action: allow
`)
	proxy := "http://" + p.addr
	for _, tc := range []struct{ url, code, body string }{
		{"http://ads.example.com/banner.gif", "403", "access denied by rule no-ads"},
		{"http://sub.ads.example.com/x", "403", "access denied by rule no-ads"},
		{"http://" + origin + "/setup.exe", "403", "access denied by rule no-exe"},
		{"http://" + origin + "/page.html", "200", "ok"},
	} {
		code, _ := curl(t, "-x", proxy, "-o", "/dev/null", "-w", "%{http_code}", tc.url)
		body, _ := curl(t, "-x", proxy, tc.url)
		if code != tc.code || strings.TrimSpace(body) != tc.body {
			t.Errorf("%s: got %s %q, want %s %q", tc.url, code, body, tc.code, tc.body)
		}
	}
}

// Proxy authentication: Basic and Digest (MD5 and SHA-256) with curl;
// no or wrong credentials get 407 with a challenge per scheme; the
// credentials never reach the origin.
func TestProxyAuth(t *testing.T) {
	var mu sync.Mutex
	var leaked []string
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("Proxy-Authorization"); v != "" {
			mu.Lock()
			leaked = append(leaked, v)
			mu.Unlock()
		}
		io.WriteString(w, "ok")
	}))
	for _, tc := range []struct {
		name, files string
		args        []string
		want        string
	}{
		{"no credentials", "basic", nil, "407"},
		{"basic bcrypt", "basic", []string{"--proxy-basic", "--proxy-user", "alice:wonder land"}, "200"},
		{"basic apr1", "basic", []string{"--proxy-basic", "--proxy-user", "bob:b0b:pass"}, "200"},
		{"basic wrong password", "basic", []string{"--proxy-basic", "--proxy-user", "alice:wonderland"}, "407"},
		{"digest md5", "digest", []string{"--proxy-digest", "--proxy-user", "erin:secret one"}, "200"},
		{"digest md5 wrong password", "digest", []string{"--proxy-digest", "--proxy-user", "erin:secret two"}, "407"},
		{"digest sha-256", "digest256", []string{"--proxy-digest", "--proxy-user", "gina:g1na pass"}, "200"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yaml := map[string]string{
				"basic":     "auth:\n  basic_file: " + filepath.Join(authFixtures, "htpasswd") + "\n",
				"digest":    "auth:\n  digest_file: " + filepath.Join(authFixtures, "htdigest") + "\n",
				"digest256": "auth:\n  digest_file: " + filepath.Join(authFixtures, "htdigest-sha256") + "\n",
			}[tc.files]
			p := startProc(t, yaml)
			args := append([]string{"-x", "http://" + p.addr, "-o", "/dev/null", "-w", "%{http_code}"}, tc.args...)
			out, _ := curl(t, append(args, "http://"+origin+"/")...)
			if out != tc.want {
				t.Errorf("got %q, want %s", out, tc.want)
			}
			if tc.want == "407" {
				hdr, _ := curl(t, append([]string{"-x", "http://" + p.addr, "-s", "-o", "/dev/null", "-D", "-"}, "http://"+origin+"/")...)
				if !strings.Contains(hdr, "Proxy-Authenticate: ") {
					t.Errorf("407 without Proxy-Authenticate:\n%s", hdr)
				}
			}
		})
	}
	if len(leaked) > 0 {
		t.Errorf("Proxy-Authorization reached the origin: %q", leaked)
	}
}

// A reload (SIGHUP, and POST /reload on the admin listener) that changes
// the rules and the deny list takes effect on a keep-alive connection that
// stays open across it; an invalid reload is refused and the old rules
// stay.
func TestReloadKeepsConnections(t *testing.T) {
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	dir := t.TempDir()
	deny := filepath.Join(dir, "deny.txt")
	_ = os.WriteFile(deny, []byte("192.0.2.1\n"), 0o644)
	p := startProc(t, "acl:\n  deny_file: "+deny+"\n")

	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	get := func(path string) int {
		t.Helper()
		fmt.Fprintf(c, "GET http://%s%s HTTP/1.1\r\nHost: h\r\n\r\n", origin, path)
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("keep-alive connection lost: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get("/a"); got != 200 {
		t.Fatalf("before reload: got %d, want 200", got)
	}
	// Deny the client by a rule, reloaded by SIGHUP.
	cfgPath := p.cmd.Args[2]
	cfg, _ := os.ReadFile(cfgPath)
	_ = os.WriteFile(cfgPath, append(cfg, "rules:\n  - action: deny\n    name: blocked-path\n    url_regex: ['/blocked$']\n  - action: allow\n"...), 0o644)
	_ = p.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, func() bool { return get("/blocked") == 403 })
	if got := get("/a"); got != 200 {
		t.Errorf("after the rule reload: got %d for an allowed path, want 200", got)
	}
	// Deny the client's address by the deny list, reloaded through the admin listener.
	_ = os.WriteFile(deny, []byte("192.0.2.1\n127.0.0.1\n"), 0o644)
	resp, err := http.Post("http://"+p.admin+"/reload", "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /reload: %v %v", resp, err)
	}
	if got := get("/a"); got != 403 {
		t.Errorf("after the deny-list reload: got %d, want 403", got)
	}
	// A broken list is refused, and the rules in force stay.
	_ = os.WriteFile(deny, []byte("not-an-address\n"), 0o644)
	resp, err = http.Post("http://"+p.admin+"/reload", "", nil)
	if err != nil || resp.StatusCode != 422 {
		t.Errorf("POST /reload with a bad list: got %v %v, want 422", resp.StatusCode, err)
	}
	if got := get("/a"); got != 403 {
		t.Errorf("after a refused reload: got %d, want 403 (old list in force)", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 50; i++ {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("condition not met within 5s")
}

// The access log, in Squid's native format, is read by GoAccess as it is.
func TestAccessLogGoAccess(t *testing.T) {
	if _, err := exec.LookPath("goaccess"); err != nil {
		t.Skip("goaccess not installed (make test installs it)")
	}
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "logged")
	}))
	logPath := filepath.Join(t.TempDir(), "access.log")
	p := startProc(t, "log:\n  path: "+logPath+"\n  format: squid\n")
	const n = 7
	for i := 0; i < n; i++ {
		_, _ = curl(t, "-x", "http://"+p.addr, "-o", "/dev/null", fmt.Sprintf("http://%s/page%d", origin, i%3))
	}
	var data []byte
	waitFor(t, func() bool {
		data, _ = os.ReadFile(logPath)
		return strings.Count(string(data), "\n") >= n
	})
	if !strings.Contains(string(data), "TCP_MEM_HIT/200") || !strings.Contains(string(data), "TCP_MISS/200") {
		t.Errorf("log lacks hit or miss codes:\n%s", data)
	}
	out, err := exec.Command("goaccess", logPath, "--log-format=%x.%^ %~%L %h %^/%s %b %m %U",
		"--date-format=%s", "--time-format=%s", "-o", "json").Output()
	if err != nil {
		t.Fatalf("goaccess: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), fmt.Sprintf(`"total_requests": %d`, n)) ||
		!strings.Contains(string(out), `"failed_requests": 0`) {
		t.Errorf("goaccess did not parse all %d lines:\n%.600s", n, out)
	}
}

// /proxy.pac and /wpad.dat on the proxy port: a PAC file that names this
// proxy as the client reached it, with DIRECT for pac.direct_domains.
func TestPAC(t *testing.T) {
	p := startProc(t, "pac:\n  direct_domains: [corp.example, intranet.test]\n")
	for _, path := range []string{"/proxy.pac", "/wpad.dat"} {
		resp, err := http.Get("http://" + p.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ns-proxy-autoconfig" {
			t.Errorf("%s: got %d %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		for _, want := range []string{
			"function FindProxyForURL(url, host)",
			`return "PROXY ` + p.addr + `; DIRECT"`,
			`dnsDomainIs(host, ".corp.example")`,
			`host == "intranet.test"`,
		} {
			if !strings.Contains(string(body), want) {
				t.Errorf("%s lacks %q:\n%s", path, want, body)
			}
		}
	}
	if resp, err := http.Get("http://" + p.addr + "/other"); err != nil || resp.StatusCode != 400 {
		t.Errorf("another origin-form request: got %v %v, want 400", resp, err)
	}
}

// PURGE is allowed only from acl.admin_file's networks (loopback without
// one): from elsewhere it is refused with 403 and removes nothing.
func TestPurgeAdminACL(t *testing.T) {
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "cached")
	}))
	admin := filepath.Join(t.TempDir(), "admin.txt")
	_ = os.WriteFile(admin, []byte("10.0.0.0/8\n"), 0o644)
	for _, tc := range []struct{ name, yaml, want string }{
		{"loopback by default", "", "200"},
		{"not in acl.admin_file", "acl:\n  admin_file: " + admin + "\n", "403"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startProc(t, tc.yaml)
			_, _ = curl(t, "-x", "http://"+p.addr, "-o", "/dev/null", "http://"+origin+"/obj")
			out, _ := curl(t, "-x", "http://"+p.addr, "-X", "PURGE", "-o", "/dev/null", "-w", "%{http_code}", "http://"+origin+"/obj")
			if out != tc.want {
				t.Errorf("PURGE: got %s, want %s", out, tc.want)
			}
		})
	}
}
