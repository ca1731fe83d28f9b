package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// /metrics is scraped and parsed with the Prometheus text-format parser;
// /stats carries the same counters with accounting per client, resettable.
func TestMetricsAndStats(t *testing.T) {
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "metered")
	}))
	p := startProc(t, "")
	for i := 0; i < 3; i++ {
		if out, err := curl(t, "-x", "http://"+p.addr, "http://"+origin+"/m"); err != nil || out != "metered" {
			t.Fatalf("GET: %q %v", out, err)
		}
	}
	// Two idle client connections stay open while /metrics is read.
	for range 2 {
		c, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	time.Sleep(100 * time.Millisecond) // accepted by the event loops
	resp, err := http.Get("http://" + p.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type: got %q", ct)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	count := func(family string, labels map[string]string) float64 {
		var sum float64
		for _, m := range families[family].GetMetric() {
			match := true
			for _, l := range m.GetLabel() {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					match = false
				}
			}
			if match {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
		return sum
	}
	if got := count("edgeproxy_requests_total", map[string]string{"method": "GET", "result": "TCP_MEM_HIT", "status": "200"}); got != 2 {
		t.Errorf("hits in edgeproxy_requests_total: got %v, want 2", got)
	}
	if got := count("edgeproxy_requests_total", map[string]string{"method": "GET", "result": "TCP_MISS", "status": "200"}); got != 1 {
		t.Errorf("misses in edgeproxy_requests_total: got %v, want 1", got)
	}
	for _, f := range []string{"edgeproxy_origin_latency_seconds", "edgeproxy_bytes_total", "edgeproxy_client_connections",
		"edgeproxy_cache_objects", "edgeproxy_workers_capacity"} {
		if families[f] == nil {
			t.Errorf("/metrics lacks %s", f)
		}
	}
	if got := count("edgeproxy_client_connections", nil); got != 2 {
		t.Errorf("edgeproxy_client_connections: got %v, want the 2 open", got)
	}
	if got := count("edgeproxy_workers_busy", nil); got != 0 {
		t.Errorf("edgeproxy_workers_busy: got %v with nothing in flight", got)
	}
	if strings.Contains(p.logs.String(), "bad collector sample") {
		t.Errorf("the scrape logged dropped samples:\n%s", p.logs.String())
	}
	if h := families["edgeproxy_origin_latency_seconds"].GetMetric(); len(h) == 0 || h[0].GetHistogram().GetSampleCount() != 1 {
		t.Errorf("origin latency histogram: want one observation, got %v", h)
	}

	stats := func() map[string]any {
		resp, err := http.Get("http://" + p.admin + "/stats")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatalf("/stats: %v", err)
		}
		return v
	}
	clients, _ := stats()["clients"].(map[string]any)
	acct, _ := clients["127.0.0.1"].(map[string]any)
	if acct == nil || acct["requests"] != float64(3) || acct["hits"] != float64(2) || acct["bytes_out"].(float64) <= 0 {
		t.Errorf("/stats accounting for 127.0.0.1: got %v", clients)
	}
	if r, err := http.Post("http://"+p.admin+"/stats/reset", "", nil); err != nil || r.StatusCode != 200 {
		t.Fatalf("reset: %v %v", r, err)
	}
	if clients, _ := stats()["clients"].(map[string]any); len(clients) != 0 {
		t.Errorf("after reset: got %v, want no accounts", clients)
	}
	if r, err := http.Get("http://" + p.admin + "/healthz"); err != nil || r.StatusCode != 200 {
		t.Errorf("/healthz: %v %v", r, err)
	}
}
