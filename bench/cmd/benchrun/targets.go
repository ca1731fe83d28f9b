package main

import (
	"fmt"
	"math"
)

// peerNames are the products edgeproxy is held against.
var peerNames = []string{"squid", "nginx", "varnish", "trafficserver", "tinyproxy"}

// peersIn lists the peers with at least one successful run in scenario.
func peersIn(runs []*runResult, scenario string) []string {
	var out []string
	for _, p := range peerNames {
		if len(okRuns(runs, scenario, p)) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// computeTargets checks edgeproxy's goals from the measured runs. Every
// figure is the median over rounds of a within-round ratio (edgeproxy over
// the best peer of that same round), so a noisy round moves both sides.
func computeTargets(runs []*runResult, scenarios []string) []*target {
	const ep = "edgeproxy"
	var out []*target
	add := func(t *target) {
		t.check()
		if t.Status == "n/a" && t.Against != "" {
			// A target against one named product (the ceiling, direct):
			// say which side is missing.
			t.Note = whyNoRatio(runs, t.Scenario, ep, t.Against)
		} else if t.Status == "n/a" && t.Note != "no peer ran successfully" {
			why := "edgeproxy did not run"
			for _, r := range runs {
				if r.Scenario == t.Scenario && r.Product == ep && r.Rep > 0 {
					why = "every edgeproxy run FAILED (see the scenario's table)"
					break
				}
			}
			if t.Note == "" {
				t.Note = why
			} else {
				t.Note = why + "; " + t.Note
			}
		}
		out = append(out, t)
	}
	bestRef := func(sc string, peers []string, m metric, higher bool) (string, float64) {
		best, bv := "", math.NaN()
		for _, p := range peers {
			v := medianOf(runs, sc, p, m)
			if math.IsNaN(v) {
				continue
			}
			if math.IsNaN(bv) || (higher && v > bv) || (!higher && v < bv) {
				best, bv = p, v
			}
		}
		return best, bv
	}
	noPeer := func(sc, what string) *target {
		return &target{Scenario: sc, What: what, Value: math.NaN(), Note: "no peer ran successfully"}
	}

	for _, sc := range scenarios {
		peers := peersIn(runs, sc)
		switch sc {
		case "hit-1k-c64", "hit-1k-c1024":
			t := &target{Scenario: sc, What: "server CPU per request ≤ 1.25× the gnet ceiling's", Limit: 1.25, AtMost: true, Against: "ceiling", Unit: "×"}
			t.Value = roundRatio(runs, sc, ep, "ceiling", metricCPU)
			if c := medianOf(runs, sc, "ceiling", metricCPU); !math.IsNaN(c) {
				t.Note = fmt.Sprintf("ceiling: %.3f CPU-s/100k req → edgeproxy needs ≤ %.3f", c, c*1.25)
			}
			add(t)
			if len(peers) == 0 {
				add(noPeer(sc, "CPU per request ≤ 0.5× the best peer's"))
				add(noPeer(sc, "requests/s ≥ 1.5× the fastest peer"))
				add(noPeer(sc, "p99 below every peer's"))
				continue
			}
			t = &target{Scenario: sc, What: "CPU per request ≤ 0.5× the best peer's", Limit: 0.5, AtMost: true, Unit: "×"}
			t.Value, t.Against = roundRatioToBest(runs, sc, ep, peers, metricCPU, false)
			if p, v := bestRef(sc, peers, metricCPU, false); p != "" {
				t.Note = fmt.Sprintf("best peer %s: %.3f CPU-s/100k req → needs ≤ %.3f", p, v, v*0.5)
			}
			add(t)
			t = &target{Scenario: sc, What: "requests/s ≥ 1.5× the fastest peer", Limit: 1.5, Unit: "×"}
			t.Value, t.Against = roundRatioToBest(runs, sc, ep, peers, metricRPS, true)
			t.LoadCap = loadCap(runs, sc, t.Against, t.Limit)
			if p, v := bestRef(sc, peers, metricRPS, true); p != "" {
				t.Note = fmt.Sprintf("fastest peer %s: %.0f req/s → needs ≥ %.0f", p, v, v*1.5)
			}
			add(t)
			t = &target{Scenario: sc, What: "p99 below every peer's", Limit: 1, Strict: true, Unit: "×"}
			t.Value, t.Against = roundRatioToBest(runs, sc, ep, peers, metricP99, false)
			if p, v := bestRef(sc, peers, metricP99, false); p != "" {
				t.Note = fmt.Sprintf("lowest peer p99 %s: %.2f ms → needs < %.2f ms", p, v, v)
			}
			add(t)
		case "hit-1m-c16", "pass-1k-c64":
			what := "requests/s ≥ 1.2× the fastest peer"
			if len(peers) == 0 {
				add(noPeer(sc, what))
				continue
			}
			t := &target{Scenario: sc, What: what, Limit: 1.2, Unit: "×"}
			t.Value, t.Against = roundRatioToBest(runs, sc, ep, peers, metricRPS, true)
			t.LoadCap = loadCap(runs, sc, t.Against, t.Limit)
			if p, v := bestRef(sc, peers, metricRPS, true); p != "" {
				t.Note = fmt.Sprintf("fastest peer %s: %.0f req/s → needs ≥ %.0f", p, v, v*1.2)
			}
			add(t)
		case "idle-10k":
			t := &target{Scenario: sc, What: "≤ 5 KiB RSS per idle connection", Limit: 5, AtMost: true, Unit: "KiB"}
			t.Value = medianOf(runs, sc, ep, metricIdleKiB)
			if p, v := bestRef(sc, peers, metricIdleKiB, false); p != "" {
				t.Note = fmt.Sprintf("leanest peer %s: %.2f KiB/conn", p, v)
			}
			add(t)
		case "tunnel-1g":
			t := &target{Scenario: sc, What: "≥ 90% of a direct loopback transfer's throughput", Limit: 0.9, Against: "direct", Unit: "×"}
			t.Value = roundRatio(runs, sc, ep, "direct", metricMiBps)
			if v := medianOf(runs, sc, "direct", metricMiBps); !math.IsNaN(v) {
				t.Note = fmt.Sprintf("direct: %.0f MiB/s → needs ≥ %.0f", v, v*0.9)
			}
			add(t)
		}
	}
	return out
}
