package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"edgeproxy/bench/trace/sim"
	"edgeproxy/cache/prefetch"
)

// prefetchOptions are the proxy's prefetch defaults as the simulator takes
// them, at threshold th and span.
func prefetchOptions(th float64, span time.Duration) sim.PrefetchConfig {
	return sim.PrefetchConfig{
		Options: prefetch.Options{Window: prefetch.DefaultWindow, Threshold: th, MinCount: prefetch.DefaultMinCount,
			Span: span, Proof: prefetch.DefaultProof, ClientPrecision: prefetch.DefaultClientPrecision},
		MaxObject: prefetch.DefaultMaxObject,
	}
}

// simulatePrefetch runs the edge policy with prefetching at capacity.
func simulatePrefetch(t *sim.Trace, capacity int64, cfg sim.PrefetchConfig) sim.PrefetchResult {
	return sim.RunPrefetch("edge", t, capacity, sim.NewEdge(t, capacity, sim.EdgeConfig{}), sim.NewEdge(t, capacity, sim.EdgeConfig{}), cfg)
}

// writePrefetchCurves writes, per size, the simulated prefetch curve of the
// edge policy at the proxy's prefetch defaults, one row per threshold of
// ths (issue 17).
func writePrefetchCurves(w io.Writer, t *sim.Trace, pcts, ths []float64) {
	if len(ths) == 0 {
		return
	}
	fmt.Fprintf(w, "\nPrefetch curve (simulated: the edge policy with the proxy's learner at its defaults, window %d, min_count %d, span %s, proof %d, client_precision %g, max_object %d KiB). Misses removed: the share of the misses without prefetching that prefetching removed; extra uplink: what it adds to their bytes (prefetched bytes less the miss bytes it saved); prefetched and wasted (not used before eviction): bytes, as shares of the same; precision: prefetches used before eviction.\n",
		prefetch.DefaultWindow, prefetch.DefaultMinCount, prefetch.DefaultSpan, prefetch.DefaultProof, prefetch.DefaultClientPrecision, prefetch.DefaultMaxObject>>10)
	for _, p := range pcts {
		capacity := int64(float64(t.Bytes) * p / 100)
		var rows []sim.PrefetchResult
		for _, th := range ths {
			rows = append(rows, simulatePrefetch(t, capacity, prefetchOptions(th, prefetch.DefaultSpan)))
		}
		fmt.Fprintf(w, "\nAt %g%% (%s): %s.\n\n%s", p, mib(capacity), rows[0].Unpredictable(), sim.CurveTable(rows))
	}
}

// parseThresholds reads -prefetch-curve.
func parseThresholds(list string) ([]float64, error) {
	var out []float64
	for s := range strings.SplitSeq(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		th, err := strconv.ParseFloat(s, 64)
		if err != nil || th <= 0 || th > 1 {
			return nil, fmt.Errorf("%w: %q", errCurve, s)
		}
		out = append(out, th)
	}
	return out, nil
}

// writePrefetchCheck writes, for each size at which both "edge" and a
// prefetching edge variant were replayed, the replay's prefetch figures
// beside the simulator's for the same settings (the replay's: no span),
// so that the simulator can be checked against the proxy.
func writePrefetchCheck(w io.Writer, t *sim.Trace, rows []sweepRow) {
	var edge, pf *sweepRow
	for i := range rows {
		switch rows[i].Name {
		case "edgeproxy, edge":
			edge = &rows[i]
		case "edgeproxy, edge+prefetch":
			pf = &rows[i]
		}
	}
	if edge == nil || pf == nil {
		return
	}
	fmt.Fprintf(w, "\nPrefetching replayed through edgeproxy (edge+prefetch against edge) beside the simulator with the same settings (threshold %g, span off as in the replay):\n\n", prefetchThreshold)
	fmt.Fprintf(w, "| size | | misses removed (requests) | misses removed (bytes) | extra uplink | prefetches | precision | HR | BHR |\n|--:|---|--:|--:|--:|--:|--:|--:|--:|\n")
	pc := func(x float64) string { return fmt.Sprintf("%+.1f%%", 100*x) }
	for i := range pf.Results {
		if i >= len(edge.Results) {
			break
		}
		e, p := edge.Results[i], pf.Results[i]
		if e.Replay == nil || p.Replay == nil {
			continue
		}
		fmt.Fprintf(w, "| %g%% | replayed | %s | %s | %s | %d | %.2f | %.3f (%.3f) | %.3f (%.3f) |\n", p.Percent,
			pc((p.HitRatio-e.HitRatio)/max(1-e.HitRatio, 1e-9)), pc((p.ByteHitRatio-e.ByteHitRatio)/max(1-e.ByteHitRatio, 1e-9)),
			pc(float64(p.Replay.UplinkBytes-e.Replay.UplinkBytes)/float64(max(e.Replay.UplinkBytes, 1))),
			p.Replay.Prefetches, p.Replay.PrefetchPrecision, p.HitRatio, e.HitRatio, p.ByteHitRatio, e.ByteHitRatio)
		s := simulatePrefetch(t, p.Capacity, prefetchOptions(prefetchThreshold, 0))
		fmt.Fprintf(w, "| %g%% | simulated | %s | %s | %s | %d | %.2f | %.3f (%.3f) | %.3f (%.3f) |\n", p.Percent,
			pc(s.MissesRemoved), pc(s.MissBytesRemoved), pc(s.ExtraUplink), s.Prefetches, s.Precision,
			s.HitRatio, s.Base.HitRatio, s.ByteHitRatio, s.Base.ByteHitRatio)
	}
}
