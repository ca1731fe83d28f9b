package main

import (
	"math"
	"strings"
	"testing"
)

// Issue 12: the report's done-when verdicts come from within-round ratios
// against nginx, Traffic Server and the baseline binary.
func TestIssue12Targets(t *testing.T) {
	var runs []*runResult
	add := func(sc, p string, rep int, rps, p99, cpu float64) {
		runs = append(runs, run(sc, p, rep, rps, p99, cpu))
	}
	for rep := 1; rep <= 3; rep++ {
		// pass: 1.25×, 1.30×, 1.10× nginx → median 1.25 (met).
		add("pass-1k-c64", "edgeproxy", rep, []float64{12500, 13000, 11000}[rep-1], 2, 1.0)
		add("pass-1k-c64", "nginx", rep, 10000, 3, 2.0)
		add("pass-1k-c64", baseProduct, rep, 8000, 4, 1.6)
		// zipf: 1.1× trafficserver (missed by 8.3%); p99 equal to nginx's (met: "no higher").
		add("zipf-mix", "edgeproxy", rep, 22000, 4.6, 1.0)
		add("zipf-mix", "trafficserver", rep, 20000, 3, 1.5)
		add("zipf-mix", "nginx", rep, 30000, 4.6, 0.5)
		add("zipf-mix", baseProduct, rep, 20000, 23, 1.1)
		// hits: 0.98, 0.96, 0.975 of base → median 0.975 (met; one round below).
		add("hit-1k-c64", "edgeproxy", rep, []float64{98000, 96000, 97500}[rep-1], 1, 0.5)
		add("hit-1k-c64", baseProduct, rep, 100000, 1, 0.5)
	}
	// idle: 1.05× base (missed); base failed in round 3, so rounds 1 and 2 count.
	for rep, kib := range []float64{2.1, 2.1, 9} {
		runs = append(runs, &runResult{Scenario: "idle-10k", Product: "edgeproxy", Rep: rep + 1, Status: statusOK, IdleKiBPerConn: kib})
	}
	runs = append(runs,
		&runResult{Scenario: "idle-10k", Product: baseProduct, Rep: 1, Status: statusOK, IdleKiBPerConn: 2},
		&runResult{Scenario: "idle-10k", Product: baseProduct, Rep: 2, Status: statusOK, IdleKiBPerConn: 2},
		&runResult{Scenario: "idle-10k", Product: baseProduct, Rep: 3, Status: statusFailed, IdleKiBPerConn: 1},
	)
	ts := issue12Targets(runs, []string{"pass-1k-c64", "zipf-mix", "hit-1k-c64", "idle-10k", "hit-1m-c16"})
	got := make(map[string]*target)
	for _, tg := range ts {
		if tg.Issue != 12 {
			t.Errorf("%s %s: got issue %d, want 12", tg.Scenario, tg.What, tg.Issue)
		}
		got[tg.Scenario+"|"+tg.What] = tg
	}
	for _, w := range []struct {
		key, status, verdict string
		value                float64
		rounds               int
		note                 string
	}{
		{"pass-1k-c64|requests/s ≥ 1.2× nginx's", "met", "met", 1.25, 3, "needs ≥ 12.0k req/s"},
		{"pass-1k-c64|server CPU per miss beside nginx's", "info", "reported (no limit)", 0.5, 3, "nginx 2.000 CPU-s/100k req"},
		{"pass-1k-c64|server CPU per miss ÷ the baseline's", "info", "reported (no limit)", 0.625, 3, ""},
		{"zipf-mix|requests/s ≥ 1.2× Traffic Server's", "missed", "missed by 8.3%", 1.1, 3, "trafficserver 20.0k req/s"},
		{"zipf-mix|p99 no higher than nginx's", "met", "met", 1, 3, "needs ≤ 4.60 ms p99"},
		{"zipf-mix|server CPU per request beside nginx's", "info", "reported (no limit)", 2, 3, ""},
		{"hit-1k-c64|requests/s unchanged: ≥ 0.97× the baseline's", "met", "met", 0.975, 3, ""},
		{"hit-1k-c64|server CPU per hit ÷ the baseline's", "info", "reported (no limit)", 1, 3, ""},
		{"idle-10k|RSS per idle connection unchanged: ≤ 1.03× the baseline's", "missed", "missed by 1.9%", 1.05, 2, "needs ≤ 2.06 KiB/conn"},
		{"hit-1m-c16|requests/s unchanged: ≥ 0.97× the baseline's", "n/a", "n/a", math.NaN(), 0, "edgeproxy did not run"},
	} {
		tg, ok := got[w.key]
		if !ok {
			t.Errorf("missing target %q", w.key)
			continue
		}
		if tg.Status != w.status || tg.verdict() != w.verdict {
			t.Errorf("%s: got %s (%q), want %s (%q)", w.key, tg.Status, tg.verdict(), w.status, w.verdict)
		}
		if !math.IsNaN(w.value) && !near(tg.Value, w.value) {
			t.Errorf("%s: got value %.4f, want %.4f", w.key, tg.Value, w.value)
		}
		if len(tg.Rounds) != w.rounds {
			t.Errorf("%s: got rounds %v, want %d of them", w.key, tg.Rounds, w.rounds)
		}
		if !strings.Contains(tg.Note, w.note) {
			t.Errorf("%s: got note %q, want it to contain %q", w.key, tg.Note, w.note)
		}
	}
	if len(ts) != 12 {
		t.Errorf("got %d targets, want 12", len(ts))
	}
}

// Without a baseline the "unchanged" lines say how to get one, and the
// baseline's info lines are left out.
func TestIssue12TargetsWithoutBase(t *testing.T) {
	runs := []*runResult{run("hit-1k-c64", "edgeproxy", 1, 1000, 1, 1), run("pass-1k-c64", "edgeproxy", 1, 1000, 1, 1)}
	ts := issue12Targets(runs, []string{"hit-1k-c64", "pass-1k-c64"})
	var whats []string
	for _, tg := range ts {
		whats = append(whats, tg.Scenario+"|"+tg.What+"|"+tg.Status+"|"+tg.Note)
	}
	want := []string{
		"hit-1k-c64|requests/s unchanged: ≥ 0.97× the baseline's|n/a|no baseline: run with bench/run --base REV",
		"pass-1k-c64|requests/s ≥ 1.2× nginx's|n/a|nginx did not run",
		"pass-1k-c64|server CPU per miss beside nginx's|n/a|nginx did not run",
	}
	if strings.Join(whats, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(whats, "\n"), strings.Join(want, "\n"))
	}
}

func TestRoundRatiosInRoundOrder(t *testing.T) {
	runs := []*runResult{
		run("s", "edgeproxy", 3, 300, 1, 1), run("s", "nginx", 3, 100, 1, 1),
		run("s", "edgeproxy", 1, 100, 1, 1), run("s", "nginx", 1, 100, 1, 1),
		run("s", "edgeproxy", 2, 200, 1, 1), run("s", "nginx", 2, 100, 1, 1),
	}
	if got := fRounds(roundRatios(runs, "s", "edgeproxy", "nginx", metricRPS)); got != "1.00, 2.00, 3.00" {
		t.Errorf("got %q, want %q", got, "1.00, 2.00, 3.00")
	}
}

// A target against the ceiling, when the ceiling was not among the
// products, says so instead of blaming edgeproxy's runs.
func TestTargetAgainstMissingProduct(t *testing.T) {
	runs := []*runResult{run("hit-1k-c64", "edgeproxy", 1, 1000, 1, 1), run("hit-1k-c64", "nginx", 1, 900, 1, 1)}
	for _, tg := range computeTargets(runs, []string{"hit-1k-c64"}) {
		if tg.Against == "ceiling" && tg.Note != "ceiling did not run" {
			t.Errorf("got note %q, want %q", tg.Note, "ceiling did not run")
		}
	}
}

func TestDisturbed(t *testing.T) {
	ts := []*target{{Scenario: "pass-1k-c64", Against: "nginx"}}
	quiet := run("pass-1k-c64", "edgeproxy", 1, 1, 1, 1)
	busyServer := run("pass-1k-c64", "nginx", 1, 1, 1, 1)
	busyServer.ForeignServerPct = 25
	busyLoad := run("pass-1k-c64", "edgeproxy", 2, 1, 1, 1)
	busyLoad.ForeignLoadPct = 11
	other := run("pass-1k-c64", "squid", 1, 1, 1, 1) // no target refers to squid
	other.ForeignServerPct = 90
	failed := &runResult{Scenario: "pass-1k-c64", Product: "nginx", Rep: 2, Status: statusFailed, ForeignServerPct: 50}
	got := disturbed([]*runResult{quiet, busyServer, busyLoad, other, failed}, ts, 10)
	want := []string{
		"pass-1k-c64 nginx round 1: server CPU 25%, load CPU 0%",
		"pass-1k-c64 edgeproxy round 2: server CPU 0%, load CPU 11%",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
}
