package metrics

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape writes r as Prometheus text and parses it back.
func scrape(t *testing.T, r *Registry) (map[string]*dto.MetricFamily, error) {
	t.Helper()
	var buf bytes.Buffer
	werr := r.WritePrometheus(&buf)
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, buf.Bytes())
	}
	return fams, werr
}

// value returns the value of the sample of family name whose labels
// include want (name, value pairs), or NaN.
func value(fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	f := fams[name]
	if f == nil {
		return math.NaN()
	}
next:
	for _, m := range f.GetMetric() {
		got := make(map[string]string)
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for i := 0; i < len(want); i += 2 {
			if got[want[i]] != want[i+1] {
				continue next
			}
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue()
		default:
			return m.GetUntyped().GetValue()
		}
	}
	return math.NaN()
}

func TestWritePrometheus(t *testing.T) {
	r := New()
	for _, o := range []Outcome{
		{Method: "GET", Status: 200, Result: "TCP_HIT", BytesIn: 100, BytesOut: 1000, Client: clientA, Hit: true},
		{Method: "GET", Status: 200, Result: "TCP_HIT", BytesIn: 100, BytesOut: 1000, Client: clientA, Hit: true},
		{Method: "POST", Status: 502, Result: "TCP_MISS_ABORTED", BytesIn: 500, BytesOut: 20, Client: clientB},
		{Method: "BREW", Status: 0, Result: "TCP_BOGUS", Client: clientB},
	} {
		r.Record(&o)
	}
	lat := []time.Duration{0, time.Millisecond, 1500 * time.Microsecond, 40 * time.Millisecond, 2 * time.Second, 31 * time.Second, time.Hour}
	for _, d := range lat {
		r.ObserveOrigin(d)
	}
	r.ClientConns().Set(4)
	r.OriginConns().Set(3)
	r.Tunnels().Set(2)
	r.Workers().Set(1)

	fams, err := scrape(t, r)
	if err != nil {
		t.Fatalf("WritePrometheus: %v", err)
	}
	for name, f := range fams {
		if !strings.HasPrefix(name, Prefix) && !isRuntime(name) {
			t.Errorf("family %q lacks prefix %q", name, Prefix)
		}
		if f.GetHelp() == "" {
			t.Errorf("family %q has no HELP", name)
		}
	}
	tests := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"edgeproxy_requests_total", []string{"method", "GET", "status", "200", "result", "TCP_HIT"}, 2},
		{"edgeproxy_requests_total", []string{"method", "POST", "status", "502", "result", "TCP_MISS_ABORTED"}, 1},
		{"edgeproxy_requests_total", []string{"method", "OTHER", "status", "000", "result", "OTHER"}, 1},
		{"edgeproxy_bytes_total", []string{"direction", "in"}, 700},
		{"edgeproxy_bytes_total", []string{"direction", "out"}, 2020},
		{"edgeproxy_cache_hits_total", nil, 2},
		{"edgeproxy_prefetch_requests_total", nil, 0},
		{"edgeproxy_client_connections", nil, 4},
		{"edgeproxy_origin_fetches_in_flight", nil, 3},
		{"edgeproxy_tunnels", nil, 2},
		{"edgeproxy_workers_busy", nil, 1},
		{"edgeproxy_accounting_tracked", []string{"table", "clients"}, 2},
		{"edgeproxy_accounting_tracked", []string{"table", "users"}, 0},
		{"edgeproxy_accounting_overflow_total", []string{"table", "clients"}, 0},
	}
	for _, tt := range tests {
		if got := value(fams, tt.name, tt.labels...); got != tt.want {
			t.Errorf("%s%q: got %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	if n := len(fams["edgeproxy_requests_total"].GetMetric()); n != 3 {
		t.Errorf("requests_total series: got %d, want 3", n)
	}

	h := fams["edgeproxy_origin_latency_seconds"].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != uint64(len(lat)) {
		t.Errorf("histogram count: got %d, want %d", h.GetSampleCount(), len(lat))
	}
	var sum float64
	for _, d := range lat {
		sum += d.Seconds()
	}
	if math.Abs(h.GetSampleSum()-sum) > 1e-9 {
		t.Errorf("histogram sum: got %v, want %v", h.GetSampleSum(), sum)
	}
	wantCum := map[float64]uint64{0.001: 2, 0.0025: 3, 0.025: 3, 0.05: 4, 2.5: 5, 30: 5, math.Inf(1): 7}
	var prev uint64
	var sawInf bool
	for _, b := range h.GetBucket() {
		if b.GetCumulativeCount() < prev {
			t.Errorf("bucket le=%v: count %d below previous %d", b.GetUpperBound(), b.GetCumulativeCount(), prev)
		}
		prev = b.GetCumulativeCount()
		if w, ok := wantCum[b.GetUpperBound()]; ok && w != prev {
			t.Errorf("bucket le=%v: got %d, want %d", b.GetUpperBound(), prev, w)
		}
		if math.IsInf(b.GetUpperBound(), 1) {
			sawInf = true
			if prev != h.GetSampleCount() {
				t.Errorf("+Inf bucket: got %d, want count %d", prev, h.GetSampleCount())
			}
		}
	}
	if !sawInf || len(h.GetBucket()) != nBuckets+1 {
		t.Errorf("got %d buckets (+Inf seen: %v), want %d", len(h.GetBucket()), sawInf, nBuckets+1)
	}
}

func TestCollector(t *testing.T) {
	tests := []struct {
		name    string
		emit    func(emit func(name, help, typ string, value float64, labels ...string))
		family  string
		labels  []string
		want    float64
		wantErr bool
	}{
		{
			name: "gauge gets prefix",
			emit: func(e func(string, string, string, float64, ...string)) {
				e("cache_objects", "Objects.", "gauge", 1234)
			},
			family: "edgeproxy_cache_objects", want: 1234,
		},
		{
			name:   "prefix kept",
			emit:   func(e func(string, string, string, float64, ...string)) { e("edgeproxy_cache_bytes", "B.", "gauge", 5) },
			family: "edgeproxy_cache_bytes", want: 5,
		},
		{
			name: "labels escaped",
			emit: func(e func(string, string, string, float64, ...string)) {
				e("reloads_total", "Reloads\nwith \\ newline.", "counter", 2, "result", "ok")
				e("reloads_total", "", "counter", 1, "result", "bad \"file\"\n\\x")
			},
			family: "edgeproxy_reloads_total", labels: []string{"result", "bad \"file\"\n\\x"}, want: 1,
		},
		{
			name:   "untyped by default",
			emit:   func(e func(string, string, string, float64, ...string)) { e("x", "X.", "", 1.5) },
			family: "edgeproxy_x", want: 1.5,
		},
		{
			name: "odd labels dropped",
			emit: func(e func(string, string, string, float64, ...string)) {
				e("ok", "Ok.", "gauge", 1)
				e("odd", "Odd.", "gauge", 1, "a")
			},
			family: "edgeproxy_ok", want: 1, wantErr: true,
		},
		{
			name: "builtin name dropped",
			emit: func(e func(string, string, string, float64, ...string)) {
				e("ok", "Ok.", "gauge", 1)
				e("requests_total", "Clash.", "counter", 1)
			},
			family: "edgeproxy_ok", want: 1, wantErr: true,
		},
		{
			name: "type change dropped",
			emit: func(e func(string, string, string, float64, ...string)) {
				e("ok", "Ok.", "gauge", 1, "k", "a")
				e("ok", "Ok.", "counter", 2, "k", "b")
			},
			family: "edgeproxy_ok", labels: []string{"k", "a"}, want: 1, wantErr: true,
		},
		{
			name: "bad names dropped",
			emit: func(e func(string, string, string, float64, ...string)) {
				e("ok", "Ok.", "gauge", 1)
				e("cache-size", "Bad.", "gauge", 1)
				e("y", "Bad label.", "gauge", 1, "__name", "v")
				e("z", "Dup label.", "gauge", 1, "a", "1", "a", "2")
				e("s", "Bad type.", "summary", 1)
			},
			family: "edgeproxy_ok", want: 1, wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New()
			r.SetCollector(tt.emit)
			fams, err := scrape(t, r)
			if got := errors.Is(err, ErrCollector); got != tt.wantErr {
				t.Errorf("got error %v, want ErrCollector: %v", err, tt.wantErr)
			}
			if got := value(fams, tt.family, tt.labels...); got != tt.want {
				t.Errorf("%s%q: got %v, want %v", tt.family, tt.labels, got, tt.want)
			}
			var extra []string
			for name := range fams {
				if !builtin[name] && !isRuntime(name) {
					extra = append(extra, name)
				}
			}
			if len(extra) != 1 || extra[0] != tt.family {
				t.Errorf("collector families: got %q, want [%q]", extra, tt.family)
			}
		})
	}
}

func TestCollectorNonFinite(t *testing.T) {
	r := New()
	r.SetCollector(func(e func(string, string, string, float64, ...string)) {
		e("a", "A.", "gauge", math.Inf(1), "v", "pos")
		e("a", "A.", "gauge", math.Inf(-1), "v", "neg")
		e("a", "A.", "gauge", math.NaN(), "v", "nan")
	})
	fams, err := scrape(t, r)
	if err != nil {
		t.Fatal(err)
	}
	if got := value(fams, "edgeproxy_a", "v", "pos"); !math.IsInf(got, 1) {
		t.Errorf("got %v, want +Inf", got)
	}
	if got := value(fams, "edgeproxy_a", "v", "neg"); !math.IsInf(got, -1) {
		t.Errorf("got %v, want -Inf", got)
	}
	r.SetCollector(nil)
	if fams, _ = scrape(t, r); fams["edgeproxy_a"] != nil {
		t.Errorf("collector still called after SetCollector(nil)")
	}
}

// isRuntime reports the families of the Prometheus Go client's runtime and
// process collectors.
func isRuntime(name string) bool {
	return strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_")
}

// Issue 13: /metrics carries go_*, process_* and edgeproxy_build_info from
// the Prometheus Go client's collectors.
func TestRuntimeMetrics(t *testing.T) {
	r := New()
	r.SetBuildInfo("v1.2.3")
	fams, err := scrape(t, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes",
		"process_open_fds", "process_start_time_seconds", "edgeproxy_build_info"} {
		if fams[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	if got := value(fams, "edgeproxy_build_info", "version", "v1.2.3"); got != 1 {
		t.Errorf("edgeproxy_build_info{version=v1.2.3}: got %v, want 1", got)
	}
}
