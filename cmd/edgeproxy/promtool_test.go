package main

import (
	"bytes"
	"io"
	"net/http"
	"os/exec"
	"testing"
)

// Issue 13: /metrics scraped from the real binary passes the real
// `promtool check metrics` (Debian package prometheus), carries the Go
// client's go_* and process_* families and edgeproxy_build_info, shows the
// bytes the memory tier stores rather than its preallocated size, counts
// hits once (edgeproxy_cache_hits_total equals cache_lookups_total{hit} and
// the hit results of edgeproxy_requests_total), and gives PAC requests a
// result of their own.
func TestMetricsPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not on PATH (make test-deps installs Debian's prometheus)")
	}
	origin := accessOrigin(t)
	p := startProc(t, "cache:\n  memory: 64MiB\n")
	proxy := "http://" + p.addr
	for _, u := range []string{"/page.html", "/page.html", "/page.html", "/style.css", "/style.css", "/reval.js", "/reval.js", "/missing"} {
		if _, err := curl(t, "-x", proxy, "-o", "/dev/null", "http://"+origin+u); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := curl(t, "-H", "If-None-Match: *", "-x", proxy, "-o", "/dev/null", "http://"+origin+"/style.css"); err != nil {
		t.Fatal(err)
	}
	if out, err := curl(t, "-o", "/dev/null", "-w", "%{http_code}", proxy+"/proxy.pac"); err != nil || out != "200" {
		t.Fatalf("PAC: %q %v", out, err)
	}

	resp, err := http.Get("http://" + p.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}

	m := scrape(t, p.admin)
	for _, name := range []string{"go_goroutines", "go_gc_duration_seconds", "go_memstats_heap_alloc_bytes",
		"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds"} {
		if m[name] == nil {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	// The test binary is built without -ldflags, so its version is "dev".
	if bi := m["edgeproxy_build_info"].GetMetric(); len(bi) != 1 || m.sum("edgeproxy_build_info", "version", "dev") != 1 {
		t.Errorf("edgeproxy_build_info: got %v, want one sample of 1 with version dev", bi)
	}

	stored := m.sum("edgeproxy_cache_bytes", "tier", "memory")
	if capacity := m.sum("edgeproxy_cache_capacity_bytes", "tier", "memory"); capacity != 64<<20 {
		t.Errorf("edgeproxy_cache_capacity_bytes{memory}: got %v, want %v", capacity, 64<<20)
	}
	// Three small objects are stored (page, style, reval): a few hundred
	// bytes each with their heads, far from the 64 MiB allocated.
	if stored < 300 || stored > 8192 {
		t.Errorf("edgeproxy_cache_bytes{memory}: got %v, want the bytes of the 3 objects stored", stored)
	}

	hits := m.sum("edgeproxy_cache_hits_total")
	lookupHits := m.sum("edgeproxy_cache_lookups_total", "result", "hit")
	var byResult float64
	for _, code := range []string{"TCP_HIT", "TCP_MEM_HIT", "TCP_INM_HIT", "TCP_IMS_HIT", "TCP_REFRESH_UNMODIFIED", "TCP_REFRESH_FAIL_OLD", "TCP_NEGATIVE_HIT"} {
		byResult += m.sum("edgeproxy_requests_total", "result", code)
	}
	// page x2, style x1, INM on style, reval revalidated x1.
	if hits != 5 || lookupHits != hits || byResult != hits {
		t.Errorf("hits: edgeproxy_cache_hits_total %v, cache_lookups_total{hit} %v, hit results of requests_total %v; want 5 each", hits, lookupHits, byResult)
	}
	if misses := m.sum("edgeproxy_cache_lookups_total", "result", "miss"); misses != 4 {
		t.Errorf("cache_lookups_total{miss}: got %v, want 4 (page, style, reval, missing)", misses)
	}
	if got := m.sum("edgeproxy_requests_total", "result", "NONE"); got != 0 {
		t.Errorf("requests counted as result NONE: %v, want 0 (PAC is TCP_MISS, as Squid logs its own pages)\n%s", got, text)
	}
	if got := m.sum("edgeproxy_requests_total", "method", "GET", "status", "200", "result", "TCP_MISS"); got != 4 {
		t.Errorf("GET 200 TCP_MISS: got %v, want 4 (3 origin fetches and the PAC file)", got)
	}
}
