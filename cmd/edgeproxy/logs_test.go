package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// GoAccessSquid is the GoAccess log format for edgeproxy's (and Squid's)
// native access log, as the README gives it: every field is parsed, the
// hierarchy/peer field skipped, the content type read as the MIME type.
var goAccessSquid = []string{
	"--log-format=%x.%^ %~%L %h %^/%s %b %m %U %e %^ %M",
	"--date-format=%s", "--time-format=%s",
}

// accessOrigin serves the paths the log tests ask for: cacheable pages and
// a stylesheet, an object that must be revalidated, and 404s.
func accessOrigin(t *testing.T) string {
	var n atomic.Int64
	return startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/page.html":
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Cache-Control", "max-age=60")
			io.WriteString(w, "<p>page</p>")
		case r.URL.Path == "/style.css":
			w.Header().Set("Content-Type", "text/css")
			w.Header().Set("Cache-Control", "max-age=60")
			io.WriteString(w, "p{}")
		case r.URL.Path == "/reval.js":
			// Always stale: every request after the first revalidates.
			w.Header().Set("Content-Type", "application/javascript")
			w.Header().Set("Cache-Control", "max-age=0, must-revalidate")
			w.Header().Set("ETag", `"v1"`)
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.WriteHeader(304)
				return
			}
			io.WriteString(w, "var x;")
		default:
			n.Add(1)
			http.NotFound(w, r)
		}
	}))
}

// waitLines waits until the file at path holds at least n lines and
// returns them; the access log is flushed every second.
func waitLines(t *testing.T, path string, n int) []string {
	t.Helper()
	var lines []string
	for i := 0; i < 150; i++ {
		b, _ := os.ReadFile(path)
		lines = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(b) > 0 && len(lines) >= n {
			return lines
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("access log has %d lines, want %d:\n%s", len(lines), n, strings.Join(lines, "\n"))
	return nil
}

// Issue 13: with log.format combined, Referer and User-Agent are logged on
// every request, those that went to the origin (MISS, REFRESH, 404) as well
// as hits.
func TestCombinedLogCarriesHeaders(t *testing.T) {
	origin := accessOrigin(t)
	logPath := filepath.Join(t.TempDir(), "access.log")
	p := startProc(t, "log:\n  format: combined\n  path: "+logPath+"\n")
	urls := []string{"/page.html", "/page.html", "/missing", "/reval.js", "/reval.js"}
	for _, u := range urls {
		if _, err := curl(t, "-x", "http://"+p.addr, "-A", "Mozilla/5.0 (X11) test-agent", "-e", "http://referer.example/start",
			"-o", "/dev/null", "http://"+origin+u); err != nil {
			t.Fatal(err)
		}
	}
	lines := waitLines(t, logPath, len(urls))
	codes := map[string]bool{}
	for _, l := range lines {
		if !strings.Contains(l, `"http://referer.example/start" "Mozilla/5.0 (X11) test-agent"`) {
			t.Errorf("line without Referer and User-Agent: %s", l)
		}
		codes[l[strings.LastIndexByte(l, ' ')+1:]] = true
	}
	for _, want := range []string{"TCP_MISS:HIER_DIRECT", "TCP_MEM_HIT:HIER_NONE", "TCP_REFRESH_UNMODIFIED:HIER_DIRECT"} {
		if !codes[want] {
			t.Errorf("no %s line in:\n%s", want, strings.Join(lines, "\n"))
		}
	}
}

// Issue 13: the squid format writes the reply's media type, the origin's
// address alone in the hierarchy field (Squid's HIER_DIRECT/127.0.0.1), and
// HIER_DIRECT for a revalidation, which went to the origin.
func TestSquidLogFields(t *testing.T) {
	origin := accessOrigin(t)
	logPath := filepath.Join(t.TempDir(), "access.log")
	p := startProc(t, "log:\n  path: "+logPath+"\n")
	for _, u := range []string{"/page.html", "/page.html", "/reval.js", "/reval.js", "/missing"} {
		if _, err := curl(t, "-x", "http://"+p.addr, "-o", "/dev/null", "http://"+origin+u); err != nil {
			t.Fatal(err)
		}
	}
	lines := waitLines(t, logPath, 5)
	want := []struct{ code, url, hier, ctype string }{
		{"TCP_MISS/200", "/page.html", "HIER_DIRECT/127.0.0.1", "text/html"},
		{"TCP_MEM_HIT/200", "/page.html", "HIER_NONE/-", "text/html"},
		{"TCP_MISS/200", "/reval.js", "HIER_DIRECT/127.0.0.1", "application/javascript"},
		{"TCP_REFRESH_UNMODIFIED/200", "/reval.js", "HIER_DIRECT/127.0.0.1", "application/javascript"},
		{"TCP_MISS/404", "/missing", "HIER_DIRECT/127.0.0.1", "text/plain"}, // the media type alone, as Squid logs it
	}
	for i, w := range want {
		f := strings.Fields(lines[i])
		if len(f) < 10 {
			t.Fatalf("line %d: got %q", i, lines[i])
		}
		got := []string{f[3], strings.TrimPrefix(f[6], "http://"+origin), f[8], strings.Join(f[9:], " ")}
		if exp := []string{w.code, w.url, w.hier, w.ctype}; strings.Join(got, "|") != strings.Join(exp, "|") {
			t.Errorf("line %d: got %q, want %q\n%s", i, got, exp, lines[i])
		}
	}
}

// Issue 13: refusals are logged with Squid's codes and counted in
// edgeproxy_requests_total: a PURGE, a CONNECT to a port outside
// tunnel.allowed_ports, a client on acl.deny_file.
func TestRefusalsLoggedAndCounted(t *testing.T) {
	origin := accessOrigin(t)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	p := startProc(t, "log:\n  path: "+logPath+"\n")
	proxy := "http://" + p.addr
	if _, err := curl(t, "-x", proxy, "-o", "/dev/null", "http://"+origin+"/page.html"); err != nil {
		t.Fatal(err)
	}
	if out, _ := curl(t, "-x", proxy, "-X", "PURGE", "-o", "/dev/null", "-w", "%{http_code}", "http://"+origin+"/page.html"); out != "200" {
		t.Errorf("PURGE: got %q, want 200", out)
	}
	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "CONNECT 127.0.0.1:25 HTTP/1.1\r\nHost: 127.0.0.1:25\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	c.Close()
	if err != nil || resp.StatusCode != 403 {
		t.Fatalf("CONNECT to port 25: got %v %v, want 403", resp, err)
	}
	lines := waitLines(t, logPath, 3)
	for i, want := range []string{"TCP_MISS/200 ", "TCP_MISS/200 ", "TCP_DENIED/403 "} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d: got %q, want %q", i, lines[i], want)
		}
	}
	if !strings.Contains(lines[1], " PURGE http://"+origin+"/page.html ") || !strings.Contains(lines[2], " CONNECT 127.0.0.1:25 ") {
		t.Errorf("PURGE and CONNECT lines:\n%s\n%s", lines[1], lines[2])
	}
	m := scrape(t, p.admin)
	for _, tc := range []struct {
		method, status, result string
	}{{"PURGE", "200", "TCP_MISS"}, {"CONNECT", "403", "TCP_DENIED"}} {
		if got := m.sum("edgeproxy_requests_total", "method", tc.method, "status", tc.status, "result", tc.result); got != 1 {
			t.Errorf("edgeproxy_requests_total{%s %s %s}: got %v, want 1", tc.method, tc.status, tc.result, got)
		}
	}

	deny := filepath.Join(dir, "deny.txt")
	_ = os.WriteFile(deny, []byte("127.0.0.1\n"), 0o644)
	denyLog := filepath.Join(dir, "deny.log")
	pd := startProc(t, "acl:\n  deny_file: "+deny+"\nlog:\n  path: "+denyLog+"\n")
	waitLines(t, denyLog, 1) // startProc's own probe connection was refused
	if out, _ := curl(t, "-x", "http://"+pd.addr, "-o", "/dev/null", "-w", "%{http_code}", "http://"+origin+"/page.html"); out != "403" {
		t.Errorf("denied client: got %q, want 403", out)
	}
	lines = waitLines(t, denyLog, 2)
	for _, l := range lines {
		if !strings.Contains(l, " 127.0.0.1 TCP_DENIED/403 ") {
			t.Errorf("denied client: got %q, want a TCP_DENIED/403 line", l)
		}
	}
	if got := scrape(t, pd.admin).sum("edgeproxy_requests_total", "status", "403", "result", "TCP_DENIED"); got < 2 {
		t.Errorf("denied client: edgeproxy_requests_total{403,TCP_DENIED} = %v, want 2", got)
	}
}

// metricFamilies is one scrape of /metrics.
type metricFamilies map[string]*dto.MetricFamily

// scrape reads /metrics from the admin listener.
func scrape(t *testing.T, admin string) metricFamilies {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return fams
}

// sum adds the samples of family whose labels include the given
// name/value pairs.
func (m metricFamilies) sum(family string, labels ...string) float64 {
	var total float64
	for _, s := range m[family].GetMetric() {
		match := true
		for i := 0; i < len(labels); i += 2 {
			found := false
			for _, l := range s.GetLabel() {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			match = match && found
		}
		if match {
			total += s.GetCounter().GetValue() + s.GetGauge().GetValue() + s.GetUntyped().GetValue()
		}
	}
	return total
}

// Issue 13: GoAccess parses every field of a squid-format log the proxy
// wrote with the README's log-format: all requests valid, the static files
// panel counts the stylesheet, the status codes and hosts panels are filled.
func TestGoAccessReadsSquidLog(t *testing.T) {
	bin, err := exec.LookPath("goaccess")
	if err != nil {
		t.Skip("goaccess not on PATH (make test-deps installs it)")
	}
	origin := accessOrigin(t)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	p := startProc(t, "log:\n  path: "+logPath+"\n")
	urls := []string{"/page.html", "/style.css", "/style.css", "/missing", "/reval.js", "/reval.js"}
	for _, u := range urls {
		if _, err := curl(t, "-x", "http://"+p.addr, "-o", "/dev/null", "http://"+origin+u); err != nil {
			t.Fatal(err)
		}
	}
	waitLines(t, logPath, len(urls))
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(goAccessSquid[0], "=", "='", 1) + "' " + strings.Join(goAccessSquid[1:], " "); !strings.Contains(string(readme), want) {
		t.Errorf("README.md does not give the tested GoAccess format %s", want)
	}
	report := filepath.Join(dir, "report.json")
	args := append([]string{logPath, "--no-global-config", "-o", report}, goAccessSquid...)
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("goaccess: %v\n%s", err, out)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	type item struct {
		Data string `json:"data"`
		Hits struct {
			Count int `json:"count"`
		} `json:"hits"`
	}
	type panel struct {
		Data []item `json:"data"`
	}
	var r struct {
		General struct {
			Total  int `json:"total_requests"`
			Valid  int `json:"valid_requests"`
			Failed int `json:"failed_requests"`
		} `json:"general"`
		Static   panel `json:"static_requests"`
		Status   panel `json:"status_codes"`
		Hosts    panel `json:"hosts"`
		Mime     panel `json:"mime_type"`
		Requests panel `json:"requests"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if g := r.General; g.Total != len(urls) || g.Valid != len(urls) || g.Failed != 0 {
		t.Errorf("general: got total %d valid %d failed %d, want %d %d 0", g.Total, g.Valid, g.Failed, len(urls), len(urls))
	}
	count := func(p panel, key string) int {
		n := 0
		for _, it := range p.Data {
			if strings.Contains(it.Data, key) {
				n += it.Hits.Count
			}
		}
		return n
	}
	if got := count(r.Static, "style.css"); got != 2 {
		t.Errorf("static files panel: got %d hits on style.css, want 2: %+v", got, r.Static)
	}
	if got := count(r.Status, "2xx"); got != 5 {
		t.Errorf("status codes panel: got %d 2xx, want 5: %+v", got, r.Status)
	}
	if got := count(r.Status, "4xx"); got != 1 {
		t.Errorf("status codes panel: got %d 4xx, want 1: %+v", got, r.Status)
	}
	if got := count(r.Hosts, "127.0.0.1"); got != len(urls) {
		t.Errorf("hosts panel: got %d for 127.0.0.1, want %d: %+v", got, len(urls), r.Hosts)
	}
	if got := count(r.Mime, "application"); got != 2 {
		t.Errorf("MIME types panel: got %d application/*, want 2: %+v", got, r.Mime)
	}
	if got := count(r.Requests, "page.html"); got != 1 {
		t.Errorf("requests panel: got %d for page.html, want 1: %+v", got, r.Requests)
	}
}

// Issue 13: Calamaris (Debian package calamaris) reads a squid-format log
// the proxy wrote: every line parsed, none invalid, and the content-type
// report names the types rather than <unknown>.
func TestCalamarisReadsSquidLog(t *testing.T) {
	bin, err := exec.LookPath("calamaris")
	if err != nil {
		t.Skip("calamaris not on PATH (make test-deps installs it)")
	}
	origin := accessOrigin(t)
	logPath := filepath.Join(t.TempDir(), "access.log")
	p := startProc(t, "log:\n  path: "+logPath+"\n")
	// The 404 comes first: its Content-Type has a parameter
	// ("text/plain; charset=utf-8"), and Calamaris guesses the format from
	// the first line.
	urls := []string{"/missing", "/page.html", "/style.css", "/style.css", "/reval.js", "/reval.js"}
	for _, u := range urls {
		if _, err := curl(t, "-x", "http://"+p.addr, "-o", "/dev/null", "http://"+origin+u); err != nil {
			t.Fatal(err)
		}
	}
	waitLines(t, logPath, len(urls))
	log, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(bin, "-a", "-t", "-1")
	cmd.Stdin = log
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("calamaris: %v\n%s", err, out)
	}
	report := string(out)
	field := func(label string) string {
		for _, l := range strings.Split(report, "\n") {
			if strings.HasPrefix(l, label) {
				f := strings.Fields(l)
				return f[len(f)-1]
			}
		}
		return ""
	}
	if got := field("lines parsed:"); got != fmt.Sprint(len(urls)) {
		t.Errorf("lines parsed: got %q, want %d\n%s", got, len(urls), report)
	}
	if got := field("invalid lines:"); got != "0" {
		t.Errorf("invalid lines: got %q, want 0\n%s", got, report)
	}
	i := strings.Index(report, "# Requested content-type")
	if i < 0 {
		t.Fatalf("no content-type report:\n%s", report)
	}
	types := report[i:]
	if j := strings.Index(types[1:], "\n# "); j >= 0 {
		types = types[:j+1]
	}
	for _, want := range []string{"text/html", "text/css", "application/javascript"} {
		if !strings.Contains(types, want) {
			t.Errorf("content-type report lacks %s:\n%s", want, types)
		}
	}
	if strings.Contains(types, "<unknown>") {
		t.Errorf("content-type report has <unknown>:\n%s", types)
	}
}
