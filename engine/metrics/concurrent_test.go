package metrics

import (
	"bytes"
	"encoding/json"
	"io"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// TestConcurrent records from many goroutines while others scrape, reset
// and snapshot; run it with -race. Counters must come out exact.
func TestConcurrent(t *testing.T) {
	const goroutines, perG = 16, 2000
	r := New()
	r.SetCollector(func(e func(string, string, string, float64, ...string)) {
		e("cache_objects", "Objects.", "gauge", float64(r.ClientConns().Value()))
	})

	stop := make(chan struct{})
	var scrapers sync.WaitGroup
	for i := range 4 {
		scrapers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				switch i {
				case 0:
					err = r.WritePrometheus(io.Discard)
				case 1:
					err = r.WriteJSON(io.Discard, map[string]any{"n": i})
				case 2:
					r.ResetAccounts()
				case 3:
					r.Accounts()
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}

	var recorders sync.WaitGroup
	for g := range goroutines {
		recorders.Go(func() {
			for i := range perG {
				o := Outcome{
					Method: "GET", Status: 200, Result: "TCP_HIT", BytesIn: 1, BytesOut: 10, Hit: i%2 == 0,
					Client: netip.AddrFrom4([4]byte{10, 0, byte(g), byte(i % 8)}),
					User:   []string{"", "alice", "bob"}[i%3],
				}
				if i%5 == 0 {
					o.Method, o.Status, o.Result = "POST", 502, "TCP_MISS"
				}
				r.ClientConns().Add(1)
				r.Record(&o)
				r.ObserveOrigin(time.Duration(i) * time.Millisecond)
				r.ClientConns().Add(-1)
			}
		})
	}
	recorders.Wait()
	close(stop)
	scrapers.Wait()

	fams, err := scrape(t, r)
	if err != nil {
		t.Fatal(err)
	}
	const total = goroutines * perG
	tests := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"edgeproxy_requests_total", []string{"method", "GET", "status", "200", "result", "TCP_HIT"}, total * 4 / 5},
		{"edgeproxy_requests_total", []string{"method", "POST", "status", "502", "result", "TCP_MISS"}, total / 5},
		{"edgeproxy_cache_hits_total", nil, total / 2},
		{"edgeproxy_bytes_total", []string{"direction", "out"}, total * 10},
		{"edgeproxy_client_connections", nil, 0},
	}
	for _, tt := range tests {
		if got := value(fams, tt.name, tt.labels...); got != tt.want {
			t.Errorf("%s%q: got %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	if got := fams["edgeproxy_origin_latency_seconds"].GetMetric()[0].GetHistogram().GetSampleCount(); got != total {
		t.Errorf("histogram count: got %d, want %d", got, total)
	}
}

// TestConcurrentAccounts checks that accounting loses nothing when clients
// and users are shared by goroutines and snapshots run meanwhile.
func TestConcurrentAccounts(t *testing.T) {
	const goroutines, perG = 8, 1000
	r := New()
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				o := Outcome{BytesOut: 3, Client: netip.AddrFrom4([4]byte{192, 0, 2, byte(i % 4)}), User: "u"}
				r.Record(&o)
				if g == 0 && i%100 == 0 {
					var buf bytes.Buffer
					if err := r.WriteJSON(&buf, nil); err != nil || !json.Valid(buf.Bytes()) {
						t.Errorf("WriteJSON: %v, valid %v", err, json.Valid(buf.Bytes()))
					}
				}
			}
		})
	}
	wg.Wait()
	clients, users := r.Accounts()
	var sum int64
	for _, a := range clients {
		sum += a.Requests
	}
	if sum != goroutines*perG || len(clients) != 4 {
		t.Errorf("clients: got %d requests over %d clients, want %d over 4", sum, len(clients), goroutines*perG)
	}
	if got := users["u"]; got.Requests != goroutines*perG || got.BytesOut != 3*goroutines*perG {
		t.Errorf("users[u]: got %+v, want %d requests", got, goroutines*perG)
	}
}
