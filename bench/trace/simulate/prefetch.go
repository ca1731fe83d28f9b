package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"edgeproxy/bench/trace/sim"
	"edgeproxy/cache/prefetch"
)

// prefetchOpts are the -prefetch flags: the thresholds of the curve and
// the learner's other settings, by default the proxy's prefetch.* defaults.
type prefetchOpts struct {
	thresholds string
	window     int
	minCount   int
	span       time.Duration
	proof      int
	precision  float64
	maxObject  int64
	lag        int
	delay      time.Duration
}

func prefetchFlags() *prefetchOpts {
	o := &prefetchOpts{}
	flag.StringVar(&o.thresholds, "prefetch", "", "prefetch thresholds of the curve, e.g. 0.2,0.3,0.4,0.5 (empty: no curve)")
	flag.IntVar(&o.window, "prefetch-window", prefetch.DefaultWindow, "prefetch.window")
	flag.IntVar(&o.minCount, "prefetch-min-count", prefetch.DefaultMinCount, "prefetch.min_count")
	flag.DurationVar(&o.span, "prefetch-span", prefetch.DefaultSpan, "prefetch.span (0: the window alone)")
	flag.IntVar(&o.proof, "prefetch-proof", prefetch.DefaultProof, "prefetch.proof (0: every client)")
	flag.Float64Var(&o.precision, "prefetch-client-precision", prefetch.DefaultClientPrecision, "prefetch.client_precision (0: none)")
	flag.Int64Var(&o.maxObject, "prefetch-max-object", prefetch.DefaultMaxObject, "prefetch.max_object in bytes (0: no bound)")
	flag.IntVar(&o.lag, "prefetch-lag", 0, "requests answered while a prefetch is in flight (0: prefetches land at once)")
	flag.DurationVar(&o.delay, "prefetch-delay", 0, "logged time a prefetch is in flight (0: none)")
	return o
}

func (o *prefetchOpts) String() string {
	return fmt.Sprintf("window %d, min_count %d, span %s, proof %d, client_precision %g, max_object %d, lag %d, delay %s",
		o.window, o.minCount, o.span, o.proof, o.precision, o.maxObject, o.lag, o.delay)
}

// curves runs the edge policy with prefetching at each size and threshold.
func (o *prefetchOpts) curves(t *sim.Trace, pcts []float64, cfg sim.EdgeConfig) ([][]sim.PrefetchResult, error) {
	if o.thresholds == "" {
		return nil, nil
	}
	var ths []float64
	for s := range strings.SplitSeq(o.thresholds, ",") {
		th, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || th <= 0 || th > 1 {
			return nil, fmt.Errorf("bad prefetch threshold %q", s)
		}
		ths = append(ths, th)
	}
	var out [][]sim.PrefetchResult
	for _, p := range pcts {
		capacity := int64(float64(t.Bytes) * p / 100)
		var row []sim.PrefetchResult
		for _, th := range ths {
			pc := sim.PrefetchConfig{
				Options:   prefetch.Options{Window: o.window, Threshold: th, MinCount: o.minCount, Span: o.span, Proof: o.proof, ClientPrecision: o.precision},
				MaxObject: o.maxObject,
				Lag:       o.lag,
				Delay:     o.delay,
			}
			row = append(row, sim.RunPrefetch("edge", t, capacity, sim.NewEdge(t, capacity, cfg), sim.NewEdge(t, capacity, cfg), pc))
		}
		out = append(out, row)
	}
	return out, nil
}
