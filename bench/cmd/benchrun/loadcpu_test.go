package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// busyRun is a successful run whose load and server CPUs were load% and
// server% busy.
func busyRun(sc, p string, rep int, rps, load, server float64) *runResult {
	r := run(sc, p, rep, rps, 1, 1)
	r.LoadBusyPct, r.ServerBusyPct = load, server
	return r
}

// Issue 12: a requests/s target against a product whose runs kept the load
// CPUs 90% busy or more says how far the load side lets any server go.
func TestLoadCap(t *testing.T) {
	const sc = "pass-1k-c64"
	for _, tc := range []struct {
		name string
		runs []*runResult
		want string
	}{
		{"load saturated", []*runResult{
			busyRun(sc, "nginx", 1, 9000, 96, 90), busyRun(sc, "nginx", 2, 10000, 97, 91), busyRun(sc, "nginx", 3, 11000, 99, 92),
			busyRun(sc, "edgeproxy", 1, 9500, 98, 95),
		}, "load CPUs 97% busy during nginx's runs (98% during edgeproxy's): requests/s on this machine are capped by the load side " +
			"at about 10.3k req/s (nginx's 10.0k ÷ 0.97), at most about 1.03× nginx's; " +
			"a ratio of 1.2 cannot be shown unless the load CPUs have ≥ 17% to spare during nginx's runs"},
		{"at the bound, edgeproxy not run", []*runResult{busyRun(sc, "nginx", 1, 9000, 90, 50)},
			"load CPUs 90% busy during nginx's runs: requests/s on this machine are capped by the load side " +
				"at about 10.0k req/s (nginx's 9000 ÷ 0.90), at most about 1.11× nginx's; " +
				"a ratio of 1.2 cannot be shown unless the load CPUs have ≥ 17% to spare during nginx's runs"},
		{"load with room", []*runResult{busyRun(sc, "nginx", 1, 10000, 60, 95), busyRun(sc, "edgeproxy", 1, 9500, 98, 95)}, ""},
		{"just below the bound", []*runResult{busyRun(sc, "nginx", 1, 10000, 89.9, 95)}, ""},
		{"not measured", []*runResult{busyRun(sc, "nginx", 1, 10000, 0, 0)}, ""},
		{"reference failed", []*runResult{{Scenario: sc, Product: "nginx", Rep: 1, Status: statusFailed, RPS: 10000, LoadBusyPct: 99}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := loadCap(tc.runs, sc, "nginx", 1.2); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// Issue 12: the section's requests/s targets carry the statement when the
// reference's load CPUs were 97% busy, not when they were 60% busy, and
// the verdicts are the same either way.
func TestIssue12LoadCap(t *testing.T) {
	for _, tc := range []struct {
		name   string
		busy   float64
		capped bool
	}{{"97% busy", 97, true}, {"60% busy", 60, false}} {
		t.Run(tc.name, func(t *testing.T) {
			var runs []*runResult
			for rep := 1; rep <= 3; rep++ {
				runs = append(runs,
					busyRun("pass-1k-c64", "edgeproxy", rep, 10500, tc.busy, 95),
					busyRun("pass-1k-c64", "nginx", rep, 10000, tc.busy, 90),
					busyRun("zipf-mix", "edgeproxy", rep, 13000, tc.busy, 95),
					busyRun("zipf-mix", "trafficserver", rep, 10000, tc.busy, 90),
					busyRun("zipf-mix", "nginx", rep, 12000, tc.busy, 90))
			}
			got := make(map[string]*target)
			for _, tg := range issue12Targets(runs, []string{"pass-1k-c64", "zipf-mix"}) {
				got[tg.Scenario+"|"+tg.What] = tg
			}
			for _, w := range []struct{ key, status, ref string }{
				{"pass-1k-c64|requests/s ≥ 1.2× nginx's", "missed", "during nginx's runs"},
				{"zipf-mix|requests/s ≥ 1.2× Traffic Server's", "met", "during trafficserver's runs"},
			} {
				tg := got[w.key]
				if tg == nil {
					t.Fatalf("missing target %q", w.key)
				}
				if tg.Status != w.status {
					t.Errorf("%s: got status %q, want %q", w.key, tg.Status, w.status)
				}
				if has := strings.Contains(tg.LoadCap, w.ref); has != tc.capped {
					t.Errorf("%s: got load cap %q, want it present: %v", w.key, tg.LoadCap, tc.capped)
				}
			}
			for k, tg := range got {
				if !strings.HasPrefix(tg.What, "requests/s") && tg.LoadCap != "" {
					t.Errorf("%s: got load cap %q on a figure that is not requests/s", k, tg.LoadCap)
				}
			}
		})
	}
}

// Issue 12: the standing requests/s targets against the fastest peer carry
// the statement for that peer.
func TestComputeTargetsLoadCap(t *testing.T) {
	var runs []*runResult
	for rep := 1; rep <= 3; rep++ {
		runs = append(runs,
			busyRun("pass-1k-c64", "edgeproxy", rep, 10000, 97, 95),
			busyRun("pass-1k-c64", "nginx", rep, 10000, 97, 90),
			busyRun("pass-1k-c64", "squid", rep, 5000, 50, 99),
			busyRun("hit-1k-c64", "edgeproxy", rep, 40000, 70, 95),
			busyRun("hit-1k-c64", "nginx", rep, 30000, 70, 95))
	}
	for _, tg := range computeTargets(runs, []string{"pass-1k-c64", "hit-1k-c64"}) {
		want := tg.Scenario == "pass-1k-c64" && strings.HasPrefix(tg.What, "requests/s")
		if has := strings.Contains(tg.LoadCap, "97% busy during nginx's runs"); has != want {
			t.Errorf("%s %s: got load cap %q, want it present: %v", tg.Scenario, tg.What, tg.LoadCap, want)
		}
	}
}

// Issue 12: report.md shows the load and server CPUs' busy shares per
// product, and the load-side statement under both target tables.
func TestReportLoadBusy(t *testing.T) {
	dir := t.TempDir()
	h := &harness{
		cfg: config{scenarios: []string{"pass-1k-c64"}, products: []string{"edgeproxy", "nginx", "squid"}, reps: 2,
			duration: 3e9, cacheMiB: 64},
		outDir:   dir,
		products: []*product{{name: "edgeproxy"}, {name: "nginx"}, {name: "squid"}},
		skipped:  make(map[string]string),
	}
	for rep := 1; rep <= 2; rep++ {
		h.runs = append(h.runs,
			busyRun("pass-1k-c64", "edgeproxy", rep, 10500, 98, 95),
			busyRun("pass-1k-c64", "nginx", rep, 10000, []float64{96, 98}[rep-1], 90),
			busyRun("pass-1k-c64", "squid", rep, 5000, 0, 0)) // not measured
	}
	targets := append(computeTargets(h.runs, h.cfg.scenarios), issue12Targets(h.runs, h.cfg.scenarios)...)
	if err := h.writeReport(targets); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	report := string(b)
	for _, want := range []string{
		"| others' CPU % server/load | load/server CPU busy % |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
		"| edgeproxy | 2/2 | 10.5k |",
		"| 0 / 0 | 98 / 95 |\n",
		"| 0 / 0 | 97 / 90 |\n",
		"| 0 / 0 | — / — |\n",
		"- pass-1k-c64 (requests/s ≥ 1.2× the fastest peer): load CPUs 97% busy during nginx's runs (98% during edgeproxy's): " +
			"requests/s on this machine are capped by the load side at about 10.3k req/s (nginx's 10.0k ÷ 0.97), at most about 1.03× nginx's; " +
			"a ratio of 1.2 cannot be shown unless the load CPUs have ≥ 17% to spare during nginx's runs.\n",
		"- pass-1k-c64 (requests/s ≥ 1.2× nginx's): load CPUs 97% busy",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report.md lacks %q:\n%s", want, report)
		}
	}
	if got := strings.Count(report, "Load side (how busy the load generator's CPUs were"); got != 2 {
		t.Errorf("got %d load-side lists, want 2 (targets and issue 12)", got)
	}
}
