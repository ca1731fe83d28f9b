package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// scenario is one load shape.
type scenario struct {
	name  string
	kind  string // hit, pass, zipf, tunnel, idle
	conns int
	size  string // object size class for /obj
	desc  string
}

var allScenarios = []scenario{
	{"hit-1k-c64", "hit", 64, "1k", "1 KiB cache hits, 64 keep-alive connections"},
	{"hit-1k-c1024", "hit", 1024, "1k", "1 KiB cache hits, 1024 keep-alive connections"},
	{"hit-1m-c16", "hit", 16, "1m", "1 MiB cache hits, 16 connections"},
	{"pass-1k-c64", "pass", 64, "1k", "uncacheable 1 KiB (Cache-Control: no-store): every request goes to the origin"},
	{"zipf-mix", "zipf", 64, "1k", "Zipf(s=1) over 100,000 1 KiB URLs, 10% unique no-store misses, 64 connections"},
	{"tunnel-1g", "tunnel", 1, "", "one 1 GiB transfer through a CONNECT tunnel"},
	{"idle-10k", "idle", 0, "1k", "idle keep-alive connections: server memory per connection"},
}

func scenarioByName(name string) (scenario, bool) {
	for _, s := range allScenarios {
		if s.name == name {
			return s, true
		}
	}
	return scenario{}, false
}

// Run statuses.
const (
	statusOK     = "ok"
	statusFailed = "FAILED"
)

// runResult is one (scenario, product, round). Latencies in ms.
type runResult struct {
	Scenario string `json:"scenario"`
	Product  string `json:"product"`
	Rep      int    `json:"round"`
	Status   string `json:"status"`
	Reason   string `json:"reason,omitempty"`
	Note     string `json:"note,omitempty"` // a caveat on a successful run

	Requests   int64   `json:"requests,omitempty"`
	RPS        float64 `json:"rps,omitempty"`
	P50        float64 `json:"p50_ms,omitempty"`
	P99        float64 `json:"p99_ms,omitempty"`
	P999       float64 `json:"p999_ms,omitempty"`
	CPUSeconds float64 `json:"cpu_s"`
	// CPUPer100k is server CPU seconds per 100,000 requests; for
	// tunnel runs, CPU seconds per GiB moved.
	CPUPer100k float64 `json:"cpu_s_per_100k"`
	PeakRSSKiB int64   `json:"peak_rss_kib"`

	// ForeignServerPct and ForeignLoadPct are the shares of the server's
	// and of the load generator's CPUs that other processes took during
	// the measured run (foreign.go).
	ForeignServerPct float64 `json:"foreign_server_cpu_pct"`
	ForeignLoadPct   float64 `json:"foreign_load_cpu_pct"`
	// LoadBusyPct and ServerBusyPct are how busy the load generator's and
	// the server's CPUs were in all during the measured run, in percent of
	// their capacity: every /proc/stat tick but idle and iowait, irq and
	// softirq included, whoever spent it (foreign.go). Both are the whole
	// machine's share when the server is not pinned; 0: not measured.
	LoadBusyPct   float64 `json:"load_cpu_busy_pct"`
	ServerBusyPct float64 `json:"server_cpu_busy_pct"`
	// Attempts is how many times the run was made because others took too
	// much CPU (-max-foreign); 0 when once.
	Attempts int `json:"attempts,omitempty"`

	OriginDelta int64   `json:"origin_requests"` // -1: not measured
	HitRatio    float64 `json:"hit_ratio,omitempty"`

	MiBps float64 `json:"mib_per_s,omitempty"`

	IdleConns      int64   `json:"idle_conns,omitempty"`
	IdleAlive      int64   `json:"idle_alive,omitempty"`
	RSSBeforeKiB   int64   `json:"rss_before_kib,omitempty"`
	RSSAfterKiB    int64   `json:"rss_after_kib,omitempty"`
	IdleKiBPerConn float64 `json:"idle_kib_per_conn,omitempty"`

	Wrk *wrkResult `json:"wrk,omitempty"`
	Raw string     `json:"raw,omitempty"` // raw output file, relative to the results dir
}

func (r *runResult) fail(format string, a ...any) {
	r.Status = statusFailed
	msg := fmt.Sprintf(format, a...)
	if r.Reason == "" {
		r.Reason = msg
	} else {
		r.Reason += "; " + msg
	}
}

// objURL is the absolute URL of an object on the server's origin.
func objURL(s *server, size, id string) string {
	return "http://" + s.origin + "/obj/" + size + "/" + id
}

// httpClient talks to s the way the load does: through it as a proxy, or
// to it directly. Connections are not kept, so none lingers into a run.
func httpClient(s *server, timeout time.Duration) *http.Client {
	tr := &http.Transport{DisableKeepAlives: true}
	if s.proxied {
		tr.Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: s.addr})
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// fetch GETs rawURL via s and returns the status and body length.
func fetch(s *server, rawURL string, timeout time.Duration) (int, int64, error) {
	resp, err := httpClient(s, timeout).Get(rawURL)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, n, err
}

// originCount reads the backing origin's request counter.
func originCount(addr string) (int64, error) {
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/__stats")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var st struct {
		Requests int64 `json:"requests"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, err
	}
	return st.Requests, nil
}

// waitReady polls until s answers a GET for a fresh object with 200.
func waitReady(s *server, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	u := objURL(s, "1k", "ready") + "?cc=no-store"
	var last error
	for time.Now().Before(deadline) {
		for _, p := range s.procs {
			if p.exited() {
				return fmt.Errorf("%s exited during start-up (%v); log: %s", p.name, p.err, logTail(s.logDir))
			}
		}
		code, _, err := fetch(s, u, 2*time.Second)
		if err == nil && code == http.StatusOK {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("status %d", code)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %v: %v; log: %s", timeout, last, logTail(s.logDir))
}

// logTail returns the last lines of the logs a server wrote into dir.
func logTail(dir string) string {
	var parts []string
	matches, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	more, _ := filepath.Glob(filepath.Join(dir, "log", "*.log"))
	for _, m := range append(matches, more...) {
		b, err := os.ReadFile(m)
		if err != nil || len(b) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) > 4 {
			lines = lines[len(lines)-4:]
		}
		parts = append(parts, filepath.Base(m)+": "+strings.Join(lines, " | "))
	}
	if len(parts) == 0 {
		return "(empty)"
	}
	return strings.Join(parts, " || ")
}
