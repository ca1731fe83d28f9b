package main

import (
	"fmt"
	"math"
	"sort"
)

// median of xs, NaN when empty. xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// metric picks one figure out of a run.
type metric func(r *runResult) float64

func metricRPS(r *runResult) float64     { return r.RPS }
func metricP99(r *runResult) float64     { return r.P99 }
func metricCPU(r *runResult) float64     { return r.CPUPer100k }
func metricMiBps(r *runResult) float64   { return r.MiBps }
func metricIdleKiB(r *runResult) float64 { return r.IdleKiBPerConn }

func metricForeignServer(r *runResult) float64 { return r.ForeignServerPct }
func metricForeignLoad(r *runResult) float64   { return r.ForeignLoadPct }

// metricLoadBusy and metricServerBusy are NaN for a run in which they were
// not measured (0), so medianOf leaves such runs out.
func metricLoadBusy(r *runResult) float64   { return unmeasured(r.LoadBusyPct) }
func metricServerBusy(r *runResult) float64 { return unmeasured(r.ServerBusyPct) }

// unmeasured maps 0, a figure's "not measured", to NaN.
func unmeasured(v float64) float64 {
	if v == 0 {
		return math.NaN()
	}
	return v
}

// okRuns returns the successful runs of product in scenario, keyed by round.
func okRuns(runs []*runResult, scenario, product string) map[int]*runResult {
	m := make(map[int]*runResult)
	for _, r := range runs {
		if r.Scenario == scenario && r.Product == product && r.Status == statusOK {
			m[r.Rep] = r
		}
	}
	return m
}

// medianOf is the median of m over the successful runs of product.
func medianOf(runs []*runResult, scenario, product string, m metric) float64 {
	var xs []float64
	for _, r := range okRuns(runs, scenario, product) {
		if v := m(r); !math.IsNaN(v) {
			xs = append(xs, v)
		}
	}
	return median(xs)
}

// roundRatio is the median over rounds of m(a)/m(b), using only rounds in
// which both a and b succeeded, so both sides of each ratio saw the same
// machine weather. NaN when no round qualifies.
func roundRatio(runs []*runResult, scenario, a, b string, m metric) float64 {
	return median(roundRatios(runs, scenario, a, b, m))
}

// roundRatios are the within-round ratios m(a)/m(b) behind roundRatio, in
// round order.
func roundRatios(runs []*runResult, scenario, a, b string, m metric) []float64 {
	ra, rb := okRuns(runs, scenario, a), okRuns(runs, scenario, b)
	var reps []int
	for rep := range ra {
		reps = append(reps, rep)
	}
	sort.Ints(reps)
	var xs []float64
	for _, rep := range reps {
		x := ra[rep]
		y, ok := rb[rep]
		if !ok || m(y) == 0 || math.IsNaN(m(x)) || math.IsNaN(m(y)) {
			continue
		}
		xs = append(xs, m(x)/m(y))
	}
	return xs
}

// roundRatioToBest is like roundRatio, but the denominator of each round is
// the best of peers in that round (highest when higherBetter, else lowest).
// best names the peer that was best most often.
func roundRatioToBest(runs []*runResult, scenario, a string, peers []string, m metric, higherBetter bool) (ratio float64, best string) {
	ra := okRuns(runs, scenario, a)
	byPeer := make(map[string]map[int]*runResult)
	for _, p := range peers {
		byPeer[p] = okRuns(runs, scenario, p)
	}
	var xs []float64
	wins := make(map[string]int)
	for rep, x := range ra {
		bestV, bestP := math.NaN(), ""
		for _, p := range peers {
			y, ok := byPeer[p][rep]
			if !ok {
				continue
			}
			v := m(y)
			if math.IsNaN(v) || v == 0 {
				continue
			}
			if math.IsNaN(bestV) || (higherBetter && v > bestV) || (!higherBetter && v < bestV) {
				bestV, bestP = v, p
			}
		}
		if bestP == "" {
			continue
		}
		wins[bestP]++
		xs = append(xs, m(x)/bestV)
	}
	for _, p := range peers {
		if wins[p] > wins[best] {
			best = p
		}
	}
	return median(xs), best
}

// target is one line of the report's targets section.
type target struct {
	Scenario string  `json:"scenario"`
	What     string  `json:"what"`
	Value    float64 `json:"value"`    // the measured figure (a ratio or an absolute)
	Limit    float64 `json:"limit"`    // the threshold Value is held to
	AtMost   bool    `json:"at_most"`  // true: Value ≤ Limit; false: Value ≥ Limit (or < for Strict)
	Strict   bool    `json:"strict"`   // Value < Limit (p99 below every peer)
	Against  string  `json:"against"`  // the peer or baseline Value is relative to
	Unit     string  `json:"unit"`     // "×" for ratios, else the unit of Value
	Status   string  `json:"status"`   // "met", "missed", "n/a"
	MissPct  float64 `json:"miss_pct"` // how far from the limit, in percent of the limit
	Note     string  `json:"note"`     // why n/a, or the absolute figure needed
	// Info marks a figure reported without a limit ("beside nginx's"):
	// its Status is "info" instead of met or missed.
	Info bool `json:"info,omitempty"`
	// Issue is the issue whose "done when" the target comes from (0 for
	// the standing targets).
	Issue int `json:"issue,omitempty"`
	// Rounds are the within-round ratios whose median is Value.
	Rounds []float64 `json:"rounds,omitempty"`
	// LoadCap, on a requests/s target against a product whose runs kept
	// the load CPUs loadBoundPct% busy or more, says what requests/s and
	// ratio the load side allows (loadCap); information beside the
	// verdict, which it does not change.
	LoadCap string `json:"load_cap,omitempty"`
}

// check sets Status and MissPct from Value and Limit.
func (t *target) check() {
	if math.IsNaN(t.Value) {
		t.Status = "n/a"
		return
	}
	if t.Info {
		t.Status, t.MissPct = "info", 0
		return
	}
	var met bool
	switch {
	case t.Strict:
		met = t.Value < t.Limit
	case t.AtMost:
		met = t.Value <= t.Limit
	default:
		met = t.Value >= t.Limit
	}
	if met {
		t.Status, t.MissPct = "met", 0
		return
	}
	t.Status = "missed"
	if t.AtMost || t.Strict {
		t.MissPct = (t.Value - t.Limit) / t.Limit * 100
	} else {
		t.MissPct = (t.Limit - t.Value) / t.Limit * 100
	}
}

// verdict renders the status as the report prints it.
func (t *target) verdict() string {
	switch t.Status {
	case "met":
		return "met"
	case "missed":
		return fmt.Sprintf("missed by %.1f%%", t.MissPct)
	case "info":
		return "reported (no limit)"
	}
	return "n/a"
}
