package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readSample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

func TestParseWrkSamples(t *testing.T) {
	for _, tc := range []struct {
		file                string
		threads, conns      int
		requests            int64
		rps, p50, p99, p999 float64
		readErr, timeouts   int64
		non2xx              int64
		failure             string // substring; "" = clean
	}{
		{"wrk-direct-1k.txt", 1, 64, 70354, 70354 / 2.035273, 1.132, 14.460, 24.065, 0, 0, 0, ""},
		{"wrk-squid-hit.txt", 1, 64, 7273, 7273 / 3.080639, 20.719, 337.105, 364.502, 0, 0, 0, ""},
		{"wrk-non2xx.txt", 1, 16, 36492, 36492 / 1.001705, 0.281, 1.777, 4.695, 0, 0, 36492, "36492 non-2xx/3xx"},
		{"wrk-reset.txt", 1, 16, 0, 0, 0, 0, 0, 10276, 0, 0, "read 10276"},
		{"wrk-timeout.txt", 1, 8, 16, 16 / 3.727286, 0, 0, 0, 0, 16, 0, "timeout 16"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r, err := parseWrk(readSample(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !r.HasJSON {
				t.Fatal("BENCHJSON line not found")
			}
			if r.Threads != tc.threads || r.Conns != tc.conns {
				t.Errorf("threads/conns: got %d/%d, want %d/%d", r.Threads, r.Conns, tc.threads, tc.conns)
			}
			if tc.requests > 0 {
				if r.Requests != tc.requests {
					t.Errorf("requests: got %d, want %d", r.Requests, tc.requests)
				}
				if !near(r.RPS, tc.rps) {
					t.Errorf("rps: got %f, want %f", r.RPS, tc.rps)
				}
				if !near(r.P50, tc.p50) || !near(r.P99, tc.p99) || !near(r.P999, tc.p999) {
					t.Errorf("p50/p99/p99.9: got %v/%v/%v, want %v/%v/%v", r.P50, r.P99, r.P999, tc.p50, tc.p99, tc.p999)
				}
			}
			if r.ErrRead != tc.readErr || r.ErrTimeout != tc.timeouts || r.Non2xx != tc.non2xx {
				t.Errorf("errors read/timeout/non2xx: got %d/%d/%d, want %d/%d/%d", r.ErrRead, r.ErrTimeout, r.Non2xx, tc.readErr, tc.timeouts, tc.non2xx)
			}
			f := r.failure()
			if tc.failure == "" && f != "" {
				t.Errorf("failure: got %q, want clean", f)
			}
			if tc.failure != "" && !strings.Contains(f, tc.failure) {
				t.Errorf("failure: got %q, want it to mention %q", f, tc.failure)
			}
		})
	}
}

// Without the BENCHJSON line (wrk run without the bench's scripts) the
// text summary alone must give the figures.
func TestParseWrkTextOnly(t *testing.T) {
	for _, file := range []string{"wrk-plain-1m.txt", "wrk-direct-1k.txt", "wrk-non2xx.txt", "wrk-timeout.txt"} {
		t.Run(file, func(t *testing.T) {
			var kept []string
			for _, l := range strings.Split(readSample(t, file), "\n") {
				if !strings.HasPrefix(l, "BENCHJSON") {
					kept = append(kept, l)
				}
			}
			r, err := parseWrk(strings.Join(kept, "\n"))
			if err != nil {
				t.Fatal(err)
			}
			if r.HasJSON || r.P999 != 0 {
				t.Fatalf("got HasJSON=%v p99.9=%v from text alone", r.HasJSON, r.P999)
			}
			switch file {
			case "wrk-plain-1m.txt":
				if r.Threads != 2 || r.Conns != 16 || r.Requests != 2682 || r.RPS != 1283.12 {
					t.Errorf("got %d threads %d conns %d requests %v rps", r.Threads, r.Conns, r.Requests, r.RPS)
				}
				if !near(r.P50, 7.27) || !near(r.P75, 10.92) || !near(r.P90, 14.81) || !near(r.P99, 27.81) {
					t.Errorf("latency distribution: got %v %v %v %v", r.P50, r.P75, r.P90, r.P99)
				}
				if !near(r.ReadMiB, 2.62*1024) || !near(r.Seconds, 2.09) || !near(r.LatAvg, 8.56) || !near(r.LatMax, 38.28) {
					t.Errorf("read %v MiB in %v s, avg %v max %v", r.ReadMiB, r.Seconds, r.LatAvg, r.LatMax)
				}
			case "wrk-direct-1k.txt":
				if r.RPS != 34567.35 || !near(r.P99, 14.46) || !near(r.P50, 1.13) {
					t.Errorf("got rps %v p50 %v p99 %v", r.RPS, r.P50, r.P99)
				}
			case "wrk-non2xx.txt":
				if r.Non2xx != 36492 {
					t.Errorf("non-2xx: got %d, want 36492", r.Non2xx)
				}
			case "wrk-timeout.txt":
				if r.ErrTimeout != 16 || r.Requests != 16 {
					t.Errorf("timeouts/requests: got %d/%d, want 16/16", r.ErrTimeout, r.Requests)
				}
			}
		})
	}
}

func TestParseWrkRejects(t *testing.T) {
	for _, in := range []string{"", "wrk: command not found\n", readSample(t, "wrk-direct-1k.txt")[:40]} {
		if _, err := parseWrk(in); err == nil {
			t.Errorf("parseWrk(%q): got no error", in)
		}
	}
	if _, err := parseWrk("BENCHJSON {not json}\n"); err == nil {
		t.Error("bad BENCHJSON: got no error")
	}
}

func TestParseWrkUnits(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
	}{{"651.23us", 0.65123}, {"1.20ms", 1.2}, {"2.00s", 2000}, {"1.50m", 90000}, {"1.00h", 3600000}} {
		got, err := parseWrkDuration(tc.in)
		if err != nil || !near(got, tc.want) {
			t.Errorf("parseWrkDuration(%q): got %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if _, err := parseWrkDuration("3d"); err == nil {
		t.Error("parseWrkDuration(3d): got no error")
	}
	for _, tc := range []struct {
		in   string
		want float64
	}{{"0.00B", 0}, {"512.00KB", 0.5}, {"85.21MB", 85.21}, {"2.62GB", 2.62 * 1024}} {
		got, err := parseWrkBytes(tc.in)
		if err != nil || !near(got, tc.want) {
			t.Errorf("parseWrkBytes(%q): got %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
