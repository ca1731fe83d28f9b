package main

import (
	"errors"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestWriteReport(t *testing.T) {
	outs := []outcome{
		{
			Variant:  variant{Name: "lru"},
			Replay:   replayResult{Requests: 1000, HitRatio: 0.4, Bytes: 100 << 20, ByteHitRatio: 0.125, UplinkBytes: 90 << 20},
			Counters: counters{`edgeproxy_cache_evictions_total{tier="large"}`: 12},
		},
		{
			Variant: variant{Name: "admission+prefetch", Admission: true, Prefetch: true},
			Replay: replayResult{Requests: 1000, HitRatio: 0.5, ByteHitRatio: 0.25, UplinkBytes: 80 << 20,
				Prefetches: 10, PrefetchUseful: 8, PrefetchPrecision: 0.8, WastedPrefetchBytes: 3 << 19,
				Errors: 2, FirstError: "/a: status 502"},
			Counters: counters{
				`edgeproxy_cache_admission_total{decision="admitted"}`: 7,
				"edgeproxy_prefetch_started_total":                     11,
			},
		},
	}
	var b strings.Builder
	c := cacheSizes{Memory: "16MiB", LargeMemory: "64MiB", MaxObject: "64MiB"}
	if err := writeReport(&b, traceInfo{Path: "t.log", Requests: 1000, Clients: 20, Seed: 3}, c, outs); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"Trace: generated, 1000 requests, 20 clients, seed 3. Requested: 100.0 MiB. Cache: memory 16MiB, large_memory 64MiB, max_object 64MiB; refresh-ahead off.\n",
		"| lru | 1000 | 0.4000 | 0.1250 | 1.000 | 90.0 MiB | 0 | – | 0.0 MiB |\n",
		"| admission+prefetch | 1000 | 0.5000 | 0.2500 | 2.000 | 80.0 MiB | 10 | 0.8000 (8 useful) | 1.5 MiB |\n",
		"admission+prefetch: 2 requests failed; first: /a: status 502\n",
		"| lru | – | – | – | – | 12 | – | – | – | – |\n",
		"| admission+prefetch | 7 | – | – | – | – | 11 | – | – | – |\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q; got:\n%s", want, got)
		}
	}

	var nolru strings.Builder
	if err := writeReport(&nolru, traceInfo{Path: "t.log"}, c, outs[1:]); err != nil {
		t.Fatal(err)
	}
	if want := "| admission+prefetch | 1000 | 0.5000 | 0.2500 | – |"; !strings.Contains(nolru.String(), want) {
		t.Errorf("report without lru lacks %q; got:\n%s", want, nolru.String())
	}
}

func TestPickVariants(t *testing.T) {
	tests := []struct {
		list    string
		want    string
		wantErr error
	}{
		{"lru,admission,admission+prefetch", "lru admission admission+prefetch", nil},
		{" admission+prefetch , lru ", "admission+prefetch lru", nil},
		{"lru+prefetch", "lru+prefetch", nil},
		{"lru,arc", "", errUnknownConfig},
		{",", "", errUnknownConfig},
	}
	for _, tt := range tests {
		t.Run(tt.list, func(t *testing.T) {
			vs, err := pickVariants(tt.list)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			var names []string
			for _, v := range vs {
				names = append(names, v.Name)
			}
			if got := strings.Join(names, " "); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestProxyConfig checks that every variant renders YAML whose keys say
// what the variant means.
func TestProxyConfig(t *testing.T) {
	type doc struct {
		Listen string `yaml:"listen"`
		Admin  string `yaml:"admin"`
		Log    struct {
			Path string `yaml:"path"`
		} `yaml:"log"`
		Cache struct {
			LargeMemory string `yaml:"large_memory"`
			Admission   bool   `yaml:"admission"`
		} `yaml:"cache"`
		RefreshAhead struct {
			Enabled bool `yaml:"enabled"`
		} `yaml:"refresh_ahead"`
		Prefetch struct {
			Enabled      bool   `yaml:"enabled"`
			MaxBandwidth string `yaml:"max_bandwidth"`
		} `yaml:"prefetch"`
	}
	c := cacheSizes{Memory: "16MiB", LargeMemory: "64MiB", MaxObject: "64MiB"}
	for _, v := range variants {
		for _, alog := range []string{"", "/tmp/a b.log"} {
			t.Run(v.Name+alog, func(t *testing.T) {
				var d doc
				src := proxyConfig(v, c, "127.0.0.1:1", "127.0.0.1:2", alog)
				if err := yaml.Unmarshal([]byte(src), &d); err != nil {
					t.Fatalf("%v in:\n%s", err, src)
				}
				wantLog := alog
				if wantLog == "" {
					wantLog = "off"
				}
				if d.Listen != "127.0.0.1:1" || d.Admin != "127.0.0.1:2" || d.Log.Path != wantLog ||
					d.Cache.LargeMemory != "64MiB" || d.Cache.Admission != v.Admission ||
					d.RefreshAhead.Enabled || d.Prefetch.Enabled != v.Prefetch {
					t.Errorf("got %+v from:\n%s", d, src)
				}
				if v.Prefetch && d.Prefetch.MaxBandwidth != "50MiB" {
					t.Errorf("got prefetch.max_bandwidth %q, want 50MiB", d.Prefetch.MaxBandwidth)
				}
			})
		}
	}
}

func TestParseSample(t *testing.T) {
	tests := []struct {
		line   string
		name   string
		value  float64
		wantOK bool
	}{
		{`edgeproxy_cache_admission_total{decision="rejected"} 8803`, `edgeproxy_cache_admission_total{decision="rejected"}`, 8803, true},
		{"edgeproxy_prefetch_bytes_total 6.26778958e+08", "edgeproxy_prefetch_bytes_total", 626778958, true},
		{"edgeproxy_prefetch_started_total_extra 3", "", 0, false},
		{"edgeproxy_cache_hits_total 5", "", 0, false},
		{"# TYPE edgeproxy_prefetch_hits_total counter", "", 0, false},
		{"edgeproxy_prefetch_hits_total x", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			name, value, ok := parseSample(tt.line)
			if ok != tt.wantOK || ok && (name != tt.name || value != tt.value) {
				t.Errorf("got %q, %v, %v; want %q, %v, %v", name, value, ok, tt.name, tt.value, tt.wantOK)
			}
		})
	}
}
