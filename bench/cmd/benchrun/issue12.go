package main

import (
	"fmt"
	"math"
	"strings"
)

// Issue 12 (the origin side on the event loops) is done when, in one run:
// pass-through reaches 1.2× nginx's requests/s; the Zipf mix reaches 1.2×
// Traffic Server's requests/s with a p99 no higher than nginx's; hits are
// unchanged within 3%; RSS per idle connection is unchanged; and server CPU
// per miss is given beside nginx's. "Unchanged" is measured against
// edgeproxy-base, the binary of a baseline revision run in the same rounds.
// Every figure is the median of within-round ratios, listed per round too.

const (
	issue12PassVsNginx = 1.2  // pass-1k-c64 requests/s ÷ nginx's, at least
	issue12ZipfVsATS   = 1.2  // zipf-mix requests/s ÷ trafficserver's, at least
	issue12ZipfP99     = 1.0  // zipf-mix p99 ÷ nginx's, at most
	issue12HitVsBase   = 0.97 // hit requests/s ÷ base's, at least (unchanged within 3%)
	issue12IdleVsBase  = 1.03 // idle RSS per connection ÷ base's, at most
)

// metricFormat renders one product's median of a metric for a note.
type metricFormat struct {
	m      metric
	format func(v float64) string
}

var (
	fmtRPS  = metricFormat{metricRPS, func(v float64) string { return frps(v) + " req/s" }}
	fmtP99  = metricFormat{metricP99, func(v float64) string { return fnum(v, "%.2f") + " ms p99" }}
	fmtCPU  = metricFormat{metricCPU, func(v float64) string { return fnum(v, "%.3f") + " CPU-s/100k req" }}
	fmtIdle = metricFormat{metricIdleKiB, func(v float64) string { return fnum(v, "%.2f") + " KiB/conn" }}
)

// vsTarget is a target on edgeproxy ÷ ref of one metric, taken within each
// round. limit ≤ 0 makes it an info line (a figure with no limit).
func vsTarget(runs []*runResult, sc, what, ref string, mf metricFormat, limit float64, atMost bool) *target {
	const ep = "edgeproxy"
	t := &target{Scenario: sc, What: what, Limit: limit, AtMost: atMost, Against: ref, Unit: "×", Issue: 12, Info: limit <= 0}
	t.Rounds = roundRatios(runs, sc, ep, ref, mf.m)
	t.Value = median(t.Rounds)
	t.check()
	if t.Status == "n/a" {
		t.Note = whyNoRatio(runs, sc, ep, ref)
		return t
	}
	a, b := medianOf(runs, sc, ep, mf.m), medianOf(runs, sc, ref, mf.m)
	t.Note = fmt.Sprintf("edgeproxy %s, %s %s", mf.format(a), ref, mf.format(b))
	if !t.Info {
		rel := "≥"
		if atMost {
			rel = "≤"
		}
		t.Note += fmt.Sprintf(" → needs %s %s", rel, mf.format(b*limit))
	}
	return t
}

// whyNoRatio says why no round gave a ratio a ÷ ref in scenario sc.
func whyNoRatio(runs []*runResult, sc, a, ref string) string {
	ran := func(p string) (seen, ok bool) {
		for _, r := range runs {
			if r.Scenario == sc && r.Product == p && r.Rep > 0 {
				seen = true
				if r.Status == statusOK {
					ok = true
				}
			}
		}
		return seen, ok
	}
	for _, p := range []string{a, ref} {
		switch seen, ok := ran(p); {
		case !seen && p == baseProduct:
			return "no baseline: run with bench/run --base REV"
		case !seen:
			return p + " did not run"
		case !ok:
			return "every " + p + " run FAILED (see the scenario's table)"
		}
	}
	return "no round in which both " + a + " and " + ref + " succeeded"
}

// issue12Targets checks issue 12's "done when" figures for the scenarios
// that ran. The lines against edgeproxy-base that carry no limit (CPU of
// misses and hits) are given only when the baseline ran.
func issue12Targets(runs []*runResult, scenarios []string) []*target {
	baseRan := false
	for _, r := range runs {
		if r.Product == baseProduct {
			baseRan = true
		}
	}
	var out []*target
	cpuVsBase := func(sc, what string) {
		if baseRan {
			out = append(out, vsTarget(runs, sc, what, baseProduct, fmtCPU, 0, false))
		}
	}
	for _, sc := range scenarios {
		switch sc {
		case "pass-1k-c64":
			rps := vsTarget(runs, sc, "requests/s ≥ 1.2× nginx's", "nginx", fmtRPS, issue12PassVsNginx, false)
			rps.LoadCap = loadCap(runs, sc, "nginx", issue12PassVsNginx)
			out = append(out, rps,
				vsTarget(runs, sc, "server CPU per miss beside nginx's", "nginx", fmtCPU, 0, false))
			cpuVsBase(sc, "server CPU per miss ÷ the baseline's")
		case "zipf-mix":
			rps := vsTarget(runs, sc, "requests/s ≥ 1.2× Traffic Server's", "trafficserver", fmtRPS, issue12ZipfVsATS, false)
			rps.LoadCap = loadCap(runs, sc, "trafficserver", issue12ZipfVsATS)
			out = append(out, rps,
				vsTarget(runs, sc, "p99 no higher than nginx's", "nginx", fmtP99, issue12ZipfP99, true),
				vsTarget(runs, sc, "server CPU per request beside nginx's", "nginx", fmtCPU, 0, false))
			cpuVsBase(sc, "server CPU per request ÷ the baseline's")
		case "hit-1k-c64", "hit-1k-c1024", "hit-1m-c16":
			out = append(out, vsTarget(runs, sc, "requests/s unchanged: ≥ 0.97× the baseline's", baseProduct, fmtRPS, issue12HitVsBase, false))
			cpuVsBase(sc, "server CPU per hit ÷ the baseline's")
		case "idle-10k":
			out = append(out, vsTarget(runs, sc, "RSS per idle connection unchanged: ≤ 1.03× the baseline's", baseProduct, fmtIdle, issue12IdleVsBase, true))
		}
	}
	return out
}

// loadBoundPct is the median busy share of the load CPUs during a
// reference product's runs at or above which a requests/s target against
// it gets a LoadCap statement.
const loadBoundPct = 90

// loadCap says how far the load side lets requests/s go in scenario sc
// when ref's runs kept the load CPUs loadBoundPct% busy or more, for a
// target of limit× ref's requests/s; "" otherwise. wrk and the backing
// origin do about the same work per request whichever server answers, so
// at ref's load share busy% the load CPUs run out at about ref's rate ×
// 100 / busy%: a ratio to ref of at most 100 / busy%, and limit× needs the
// load CPUs at most 100 / limit % busy during ref's runs.
func loadCap(runs []*runResult, sc, ref string, limit float64) string {
	busy := medianOf(runs, sc, ref, metricLoadBusy)
	rps := medianOf(runs, sc, ref, metricRPS)
	if math.IsNaN(busy) || math.IsNaN(rps) || busy < loadBoundPct {
		return ""
	}
	s := fmt.Sprintf("load CPUs %.0f%% busy during %s's runs", busy, ref)
	if ep := medianOf(runs, sc, "edgeproxy", metricLoadBusy); !math.IsNaN(ep) {
		s += fmt.Sprintf(" (%.0f%% during edgeproxy's)", ep)
	}
	s += fmt.Sprintf(": requests/s on this machine are capped by the load side at about %s req/s (%s's %s ÷ %.2f), at most about %.2f× %s's; "+
		"a ratio of %.1f cannot be shown unless the load CPUs have ≥ %.0f%% to spare during %s's runs",
		frps(rps*100/busy), ref, frps(rps), busy/100, 100/busy, ref, limit, 100-100/limit, ref)
	return s
}

// writeLoadCaps lists the LoadCap statements of ts below their table.
func writeLoadCaps(w func(format string, a ...any), ts []*target) {
	n := 0
	for _, t := range ts {
		if t.LoadCap == "" {
			continue
		}
		if n == 0 {
			w("Load side (how busy the load generator's CPUs were; information, no verdict changes):\n\n")
		}
		n++
		w("- %s (%s): %s.\n", t.Scenario, t.What, t.LoadCap)
	}
	if n > 0 {
		w("\n")
	}
}

// disturbedPct is the share of foreign CPU above which a run is listed as
// disturbed, unless -max-foreign gives another.
const disturbedPct float64 = 10

// disturbed lists the successful runs of edgeproxy and of the targets'
// references in which other processes took more than pct percent of the
// server's or the load's CPUs.
func disturbed(runs []*runResult, ts []*target, pct float64) []string {
	want := make(map[string]bool)
	for _, t := range ts {
		want[t.Scenario+"|edgeproxy"] = true
		want[t.Scenario+"|"+t.Against] = true
	}
	var out []string
	for _, r := range runs {
		if r.Status != statusOK || r.Rep == 0 || !want[r.Scenario+"|"+r.Product] {
			continue
		}
		if r.ForeignServerPct > pct || r.ForeignLoadPct > pct {
			out = append(out, fmt.Sprintf("%s %s round %d: server CPU %.0f%%, load CPU %.0f%%", r.Scenario, r.Product, r.Rep, r.ForeignServerPct, r.ForeignLoadPct))
		}
	}
	return out
}

// fRounds lists within-round ratios: "1.02, 0.97, 1.01".
func fRounds(xs []float64) string {
	if len(xs) == 0 {
		return "—"
	}
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprintf("%.2f", x)
	}
	return strings.Join(s, ", ")
}

// writeIssue12 writes the report's issue 12 section: the verdicts, then
// every metric of edgeproxy ÷ edgeproxy-base per scenario (with the same
// binary on both sides, that table is the noise floor of the run).
func (h *harness) writeIssue12(w func(format string, a ...any), targets []*target) {
	var ts []*target
	for _, t := range targets {
		if t.Issue == 12 {
			ts = append(ts, t)
		}
	}
	if len(ts) == 0 {
		return
	}
	w("## Issue 12: the origin side (done when)\n\n")
	w("Each figure is edgeproxy ÷ the named product, taken within each round (the rounds column, in round order); measured is their median. ")
	w("`edgeproxy-base` is edgeproxy built from the baseline revision%s and run in the same rounds.\n\n", h.baseDesc())
	w("| scenario | figure | measured | rounds | verdict | reference |\n|---|---|---|---|---|---|\n")
	for _, t := range ts {
		measured := "—"
		if t.Status != "n/a" {
			measured = fmt.Sprintf("%.2f× %s", t.Value, t.Against)
		}
		w("| %s | %s | %s | %s | %s | %s |\n", t.Scenario, t.What, measured, fRounds(t.Rounds), t.verdict(), t.Note)
	}
	w("\n")
	writeLoadCaps(w, ts)
	limit := disturbedPct
	if h.cfg.maxForeign > 0 {
		limit = h.cfg.maxForeign
	}
	if d := disturbed(h.runs, ts, limit); len(d) > 0 {
		w("Runs behind these figures in which other processes took more than %.0f%% of the server's or the load generator's CPUs (the ratios of their rounds are suspect):\n\n", limit)
		for _, l := range d {
			w("- %s\n", l)
		}
		w("\n")
	}

	if !contains(h.cfg.products, baseProduct) || h.skipped[baseProduct] != "" {
		return
	}
	w("### edgeproxy ÷ edgeproxy-base, every scenario\n\n")
	w("Within-round ratios, median first, rounds in brackets. When both binaries are the same build (`--base HEAD~0`), this is the run's noise floor.\n\n")
	w("| scenario | req/s | p99 | CPU per request | KiB per idle conn |\n|---|---|---|---|---|\n")
	cell := func(sc string, m metric) string {
		xs := roundRatios(h.runs, sc, "edgeproxy", baseProduct, m)
		if len(xs) == 0 {
			return "—"
		}
		return fmt.Sprintf("%.2f (%s)", median(xs), fRounds(xs))
	}
	for _, sc := range h.cfg.scenarios {
		s, _ := scenarioByName(sc)
		switch s.kind {
		case "idle":
			w("| %s | — | — | — | %s |\n", sc, cell(sc, metricIdleKiB))
		case "tunnel":
			w("| %s | %s MiB/s | — | %s per GiB | — |\n", sc, cell(sc, metricMiBps), cell(sc, metricCPU))
		default:
			w("| %s | %s | %s | %s | — |\n", sc, cell(sc, metricRPS), cell(sc, metricP99), cell(sc, metricCPU))
		}
	}
	w("\n")
}

// baseDesc names the baseline for the report: " HEAD~0 (1ecee7d)".
func (h *harness) baseDesc() string {
	switch {
	case h.base != nil:
		return fmt.Sprintf(" `%s` (%s)", h.base.rev, h.base.describe)
	case h.cfg.edgeproxyBase != "":
		return " `" + h.cfg.edgeproxyBase + "`"
	}
	return " (none given: bench/run --base REV)"
}
