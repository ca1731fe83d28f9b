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
	"testing"
	"time"
)

// browserAccept is Chromium's Accept for a navigation.
const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

// rawGet sends one request through the proxy on a fresh connection and
// returns the response with its body read.
func rawGet(t *testing.T, proxy, target, accept string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", proxy)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	host := target
	if i := strings.Index(target, "://"); i >= 0 {
		host = target[i+3:]
	}
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: test\r\nConnection: close\r\n", target, host)
	if accept != "" {
		req += "Accept: " + accept + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// closedPort is an address on which nothing listens.
func closedPort(t *testing.T) string {
	return freePort(t)
}

// Issue 13: a browser (Accept: text/html) gets an HTML page saying what
// happened, with the URL, the proxy's name, the time and what to try;
// other clients keep the one line of text. Everything from the request is
// HTML-escaped.
func TestHTMLErrorPages(t *testing.T) {
	p := startProc(t, `
rules:
  - action: deny
    name: no-ads
    domains: [ads.example.com]
  - action: allow
`)
	dead := closedPort(t)
	tests := []struct {
		name, target string
		status       int
		want         []string
	}{
		{"origin refused", "http://" + dead + "/index.html?q=1&x=2", 502,
			[]string{"Connection refused", "http://" + dead + "/index.html?q=1&amp;x=2", "ERR_CONNECT_FAIL", "The origin refused the connection."}},
		{"rule denied", "http://ads.example.com/banner.gif?a=%22%3E%3Cscript%3E", 403,
			[]string{"Access denied", "ERR_ACCESS_DENIED", "no-ads", "http://ads.example.com/banner.gif?a=%22%3E%3Cscript%3E"}},
		{"markup in the URL", `http://ads.example.com/"><script>alert(1)</script>`, 403,
			[]string{"&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"}},
		{"not a proxy request", "/index.html", 400,
			[]string{"This is a proxy, not a web site", "/proxy.pac"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := rawGet(t, p.addr, tc.target, browserAccept)
			if resp.StatusCode != tc.status {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tc.status)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type: got %q, want text/html", ct)
			}
			for _, w := range append(tc.want, "<!DOCTYPE html>", "proc-test", "What you can try", "Generated ") {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q:\n%s", w, body)
				}
			}
			if strings.Contains(body, "<script>") {
				t.Errorf("unescaped markup from the request in the page:\n%s", body)
			}
			year := fmt.Sprint(time.Now().UTC().Year())
			if !strings.Contains(body, year) {
				t.Errorf("page lacks the time (year %s):\n%s", year, body)
			}

			resp, body = rawGet(t, p.addr, tc.target, "*/*")
			if ct := resp.Header.Get("Content-Type"); resp.StatusCode != tc.status || ct != "text/plain; charset=utf-8" {
				t.Errorf("curl-like client: got %d %q, want %d text/plain", resp.StatusCode, ct, tc.status)
			}
			if strings.Count(body, "\n") != 1 || strings.Contains(body, "<") {
				t.Errorf("curl-like client: got %q, want one line of text", body)
			}
		})
	}
}

// Issue 13: errors.template_dir replaces the built-in page (error.html) or
// one page (ERR_ACCESS_DENIED.html); a template that does not parse is a
// start-up error naming the file.
func TestErrorTemplateDir(t *testing.T) {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "error.html"), []byte(`<html><body><h1>Local {{.Status}}</h1><p>{{.URL}} via {{.Proxy}}: {{.Title}}</p></body></html>`), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "ERR_ACCESS_DENIED.html"), []byte(`<html><body><h1>Blocked by {{.Detail}}</h1><p>{{.URL}}</p></body></html>`), 0o644)
	p := startProc(t, "errors:\n  template_dir: "+dir+"\nrules:\n  - action: deny\n    name: no-ads\n    domains: [ads.example.com]\n  - action: allow\n")
	dead := closedPort(t)
	_, body := rawGet(t, p.addr, "http://"+dead+"/<b>", browserAccept)
	if want := "<h1>Local 502</h1><p>http://" + dead + "/&lt;b&gt; via proc-test: Connection refused</p>"; !strings.Contains(body, want) {
		t.Errorf("error.html: got %q, want it to contain %q", body, want)
	}
	_, body = rawGet(t, p.addr, "http://ads.example.com/x", browserAccept)
	if want := "<h1>Blocked by no-ads</h1><p>http://ads.example.com/x</p>"; !strings.Contains(body, want) {
		t.Errorf("ERR_ACCESS_DENIED.html: got %q, want it to contain %q", body, want)
	}

	bad := t.TempDir()
	badFile := filepath.Join(bad, "ERR_CONNECT_FAIL.html")
	_ = os.WriteFile(badFile, []byte("<p>{{.URL</p>"), 0o644)
	cfg := filepath.Join(t.TempDir(), "bad.yaml")
	_ = os.WriteFile(cfg, []byte("listen: 127.0.0.1:0\nadmin: \"off\"\nerrors:\n  template_dir: "+bad+"\n"), 0o644)
	cmd := exec.Command(binary, "--config", cfg)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("proxy started with a bad template:\n%s", out)
	}
	if err == nil || !strings.Contains(string(out), badFile) || !strings.Contains(string(out), "errors.template_dir") {
		t.Errorf("bad template: got %v %q, want a start-up error naming errors.template_dir and %s", err, out, badFile)
	}
}
