package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"testing"
)

func TestWriteJSON(t *testing.T) {
	r := New()
	for _, o := range []Outcome{
		{Method: "GET", Status: 200, Result: "TCP_HIT", BytesIn: 100, BytesOut: 1000, Client: clientA, User: "alice", Hit: true},
		{Method: "GET", Status: 404, Result: "TCP_MISS", BytesIn: 50, BytesOut: 300, Client: clientB, User: "bob"},
		{Method: "GET", Status: 200, Result: "TCP_HIT", BytesIn: 100, BytesOut: 1000, Client: clientA, User: "alice", Hit: true},
	} {
		r.Record(&o)
	}
	r.ObserveOrigin(2e6) // 2 ms
	r.Tunnels().Set(5)
	r.SetCollector(func(e func(string, string, string, float64, ...string)) {
		e("cache_objects", "Objects.", "gauge", 42)
		e("reloads_total", "Reloads.", "counter", 2, "result", "ok")
		e("weird", "Not finite.", "gauge", math.NaN())
		e("bad name", "Dropped.", "gauge", 1)
	})

	var buf bytes.Buffer
	err := r.WriteJSON(&buf, map[string]any{"uptime_seconds": 12, "requests": "must not replace"})
	if !errors.Is(err, ErrCollector) {
		t.Errorf("got error %v, want ErrCollector for the bad name", err)
	}
	var got struct {
		Requests   int64 `json:"requests"`
		RequestsBy []struct {
			Method string `json:"method"`
			Status int    `json:"status"`
			Result string `json:"result"`
			Count  int64  `json:"count"`
		} `json:"requests_by"`
		CacheHits int64 `json:"cache_hits"`
		BytesIn   int64 `json:"bytes_in"`
		BytesOut  int64 `json:"bytes_out"`
		Origin    struct {
			Count   int64 `json:"count"`
			Buckets []struct {
				LE    string `json:"le"`
				Count int64  `json:"count"`
			} `json:"buckets"`
		} `json:"origin_latency_seconds"`
		Tunnels   int64              `json:"tunnels"`
		Collected map[string]any     `json:"collected"`
		Clients   map[string]Account `json:"clients"`
		Users     map[string]Account `json:"users"`
		Uptime    float64            `json:"uptime_seconds"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("decode: %v\n%s", err, buf.Bytes())
	}

	if got.Requests != 3 || got.CacheHits != 2 || got.BytesIn != 250 || got.BytesOut != 2300 || got.Tunnels != 5 {
		t.Errorf("got requests=%d hits=%d in=%d out=%d tunnels=%d, want 3 2 250 2300 5",
			got.Requests, got.CacheHits, got.BytesIn, got.BytesOut, got.Tunnels)
	}
	if len(got.RequestsBy) != 2 || got.RequestsBy[0].Status != 200 || got.RequestsBy[0].Count != 2 ||
		got.RequestsBy[0].Result != "TCP_HIT" || got.RequestsBy[1].Result != "TCP_MISS" {
		t.Errorf("requests_by: got %+v, want GET/200/TCP_HIT=2 then GET/404/TCP_MISS=1", got.RequestsBy)
	}
	b := got.Origin.Buckets
	if got.Origin.Count != 1 || len(b) != nBuckets+1 || b[0].Count != 0 || b[1].Count != 1 || b[nBuckets].LE != "+Inf" {
		t.Errorf("origin_latency_seconds: got %+v, want one sample in le=0.0025", got.Origin)
	}
	if got.Uptime != 12 {
		t.Errorf("extra uptime_seconds: got %v, want 12", got.Uptime)
	}

	wantClients := map[string]Account{
		"192.0.2.1":   {Requests: 2, Hits: 2, BytesIn: 200, BytesOut: 2000},
		"2001:db8::2": {Requests: 1, BytesIn: 50, BytesOut: 300},
	}
	wantUsers := map[string]Account{
		"alice": {Requests: 2, Hits: 2, BytesIn: 200, BytesOut: 2000},
		"bob":   {Requests: 1, BytesIn: 50, BytesOut: 300},
	}
	checkAccounts(t, "clients", got.Clients, wantClients)
	checkAccounts(t, "users", got.Users, wantUsers)

	tests := []struct {
		key, want string
		present   bool
	}{
		{"cache_objects", "42", true},
		{"reloads_total", `[{"labels":{"result":"ok"},"value":2}]`, true},
		{"weird", "null", true},
		{"bad name", "null", false},
	}
	for _, tt := range tests {
		v, ok := got.Collected[tt.key]
		enc, _ := json.Marshal(v)
		if string(enc) != tt.want || ok != tt.present {
			t.Errorf("collected[%q]: got %q (present %v), want %q (present %v)", tt.key, enc, ok, tt.want, tt.present)
		}
	}
}
