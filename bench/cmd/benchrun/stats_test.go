package main

import (
	"math"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}, {[]float64{5, 5, 1, 9, 7}, 5}} {
		in := append([]float64(nil), tc.in...)
		if got := median(in); got != tc.want {
			t.Errorf("median(%v): got %v, want %v", tc.in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Fatalf("median reordered its input: %v", in)
			}
		}
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median(nil): want NaN")
	}
}

// run builds a successful run for the tests.
func run(sc, p string, rep int, rps, p99, cpu float64) *runResult {
	return &runResult{Scenario: sc, Product: p, Rep: rep, Status: statusOK, RPS: rps, P99: p99, CPUPer100k: cpu}
}

func TestRoundRatioUsesSameRound(t *testing.T) {
	runs := []*runResult{
		run("s", "edgeproxy", 1, 200, 1, 1), run("s", "squid", 1, 100, 2, 2),
		run("s", "edgeproxy", 2, 90, 1, 1), run("s", "squid", 2, 30, 2, 2), // a slow round for both
		run("s", "edgeproxy", 3, 500, 1, 1), // squid failed in round 3
		{Scenario: "s", Product: "squid", Rep: 3, Status: statusFailed, RPS: 1},
	}
	// Rounds 1 and 2 only: ratios 2 and 3 → median 2.5. The ratio of
	// medians would be 200/65.
	if got := roundRatio(runs, "s", "edgeproxy", "squid", metricRPS); got != 2.5 {
		t.Errorf("roundRatio: got %v, want 2.5", got)
	}
	if got := roundRatio(runs, "s", "edgeproxy", "nginx", metricRPS); !math.IsNaN(got) {
		t.Errorf("roundRatio against a product that never ran: got %v, want NaN", got)
	}
	if got := medianOf(runs, "s", "squid", metricRPS); got != 65 {
		t.Errorf("medianOf leaves failed runs out: got %v, want 65", got)
	}
}

func TestRoundRatioToBest(t *testing.T) {
	runs := []*runResult{
		run("s", "edgeproxy", 1, 300, 1.0, 1), run("s", "squid", 1, 100, 3, 4), run("s", "nginx", 1, 200, 2, 2),
		run("s", "edgeproxy", 2, 300, 1.0, 1), run("s", "squid", 2, 250, 1.5, 4), run("s", "nginx", 2, 150, 2, 2),
		run("s", "edgeproxy", 3, 300, 1.0, 1), run("s", "squid", 3, 50, 4, 4), run("s", "nginx", 3, 100, 0.5, 2),
	}
	peers := []string{"squid", "nginx"}
	ratio, best := roundRatioToBest(runs, "s", "edgeproxy", peers, metricRPS, true)
	// Best per round: nginx 200, squid 250, nginx 100 → ratios 1.5, 1.2, 3.
	if ratio != 1.5 || best != "nginx" {
		t.Errorf("rps: got %v vs %q, want 1.5 vs nginx", ratio, best)
	}
	ratio, best = roundRatioToBest(runs, "s", "edgeproxy", peers, metricP99, false)
	// Lowest p99 per round: 2 (nginx), 1.5 (squid), 0.5 (nginx) → 0.5, 0.667, 2.
	if !near(ratio, 1.0/1.5) || best != "nginx" {
		t.Errorf("p99: got %v vs %q, want 0.667 vs nginx", ratio, best)
	}
}

func TestTargetCheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		t      target
		status string
		miss   float64
	}{
		{"at least, met", target{Value: 1.6, Limit: 1.5}, "met", 0},
		{"at least, missed", target{Value: 1.2, Limit: 1.5}, "missed", 20},
		{"at most, met", target{Value: 1.25, Limit: 1.25, AtMost: true}, "met", 0},
		{"at most, missed", target{Value: 2.5, Limit: 1.25, AtMost: true}, "missed", 100},
		{"strict, equal misses", target{Value: 1, Limit: 1, Strict: true}, "missed", 0},
		{"strict, below", target{Value: 0.8, Limit: 1, Strict: true}, "met", 0},
		{"idle KiB", target{Value: 6, Limit: 5, AtMost: true}, "missed", 20},
		{"no data", target{Value: math.NaN(), Limit: 1}, "n/a", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := tc.t
			tg.check()
			if tg.Status != tc.status || !near(tg.MissPct, tc.miss) {
				t.Errorf("got %s by %.2f%%, want %s by %.2f%%", tg.Status, tg.MissPct, tc.status, tc.miss)
			}
		})
	}
	m := target{Value: 1.2, Limit: 1.5}
	m.check()
	if got := m.verdict(); got != "missed by 20.0%" {
		t.Errorf("verdict: got %q, want %q", got, "missed by 20.0%")
	}
}

func TestComputeTargets(t *testing.T) {
	const sc = "hit-1k-c64"
	var runs []*runResult
	for rep := 1; rep <= 3; rep++ {
		runs = append(runs,
			run(sc, "edgeproxy", rep, 30000, 1.0, 1.0),
			run(sc, "ceiling", rep, 40000, 0.8, 0.9),
			run(sc, "squid", rep, 10000, 5, 4.0),
			run(sc, "nginx", rep, 25000, 2, 2.5),
		)
	}
	runs = append(runs,
		&runResult{Scenario: "idle-10k", Product: "edgeproxy", Rep: 1, Status: statusOK, IdleKiBPerConn: 4},
		&runResult{Scenario: "tunnel-1g", Product: "edgeproxy", Rep: 1, Status: statusOK, MiBps: 800},
		&runResult{Scenario: "tunnel-1g", Product: "direct", Rep: 1, Status: statusOK, MiBps: 1000},
	)
	ts := computeTargets(runs, []string{sc, "hit-1m-c16", "idle-10k", "tunnel-1g"})
	got := make(map[string]*target)
	for _, tg := range ts {
		got[tg.Scenario+"|"+tg.What] = tg
	}
	want := []struct {
		key, status string
		value       float64
	}{
		{sc + "|server CPU per request ≤ 1.25× the gnet ceiling's", "met", 1.0 / 0.9},
		{sc + "|CPU per request ≤ 0.5× the best peer's", "met", 0.4},
		{sc + "|requests/s ≥ 1.5× the fastest peer", "missed", 1.2},
		{sc + "|p99 below every peer's", "met", 0.5},
		{"hit-1m-c16|requests/s ≥ 1.2× the fastest peer", "n/a", math.NaN()},
		{"idle-10k|≤ 5 KiB RSS per idle connection", "met", 4},
		{"tunnel-1g|≥ 90% of a direct loopback transfer's throughput", "missed", 0.8},
	}
	for _, w := range want {
		tg, ok := got[w.key]
		if !ok {
			t.Errorf("missing target %q", w.key)
			continue
		}
		if tg.Status != w.status || (!math.IsNaN(w.value) && !near(tg.Value, w.value)) {
			t.Errorf("%s: got %s %.3f, want %s %.3f", w.key, tg.Status, tg.Value, w.status, w.value)
		}
	}
	if tg := got[sc+"|requests/s ≥ 1.5× the fastest peer"]; !strings.Contains(tg.Note, "nginx") || !strings.Contains(tg.Note, "37500") || !near(tg.MissPct, 20) {
		t.Errorf("rps target note/miss: got %q, %.1f%%", tg.Note, tg.MissPct)
	}
}
