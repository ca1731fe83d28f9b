package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"edgeproxy/bench/trace/sim"
	"edgeproxy/bench/trace/tracelog"
)

// sweepRow is one row of the issue-17 table: a policy, simulated or
// replayed through edgeproxy, at every cache size.
type sweepRow struct {
	Name    string         `json:"name"`
	Results []sweepFigures `json:"results"`
}

// sweepFigures is one cell pair of the table, with what produced it.
type sweepFigures struct {
	Percent      float64       `json:"percent"` // cache size, percent of distinct bytes
	Capacity     int64         `json:"capacity"`
	HitRatio     float64       `json:"hit_ratio"`
	ByteHitRatio float64       `json:"byte_hit_ratio"`
	Replay       *replayResult `json:"replay,omitempty"`
	Counters     counters      `json:"counters,omitempty"`
}

// parsePercents reads -sizes.
func parsePercents(list string) ([]float64, error) {
	var out []float64
	for s := range strings.SplitSeq(list, ",") {
		p, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || p <= 0 || p > 100 {
			return nil, fmt.Errorf("%w: %q", errSizes, s)
		}
		out = append(out, p)
	}
	return out, nil
}

// splitBudget gives a proxy of capacity bytes its cache keys: tier S a
// quarter (at least cache.memory's 1 MiB floor), or with the edge policy
// the 1 MiB floor alone (on a log like blog-2016 tier S, objects up to
// memory/1024, takes well under 1% of the bytes), tier L the rest (at
// least 1 MiB), and max_object set to large_memory so small caches are
// valid.
func splitBudget(capacity int64, policy string) cacheSizes {
	const mib = 1 << 20
	mem := max(capacity/4, mib)
	if policy == "edge" {
		mem = mib
	}
	large := max(capacity-mem, mib)
	b := func(n int64) string { return strconv.FormatInt(n, 10) }
	return cacheSizes{Memory: b(mem), LargeMemory: b(large), MaxObject: b(large)}
}

// sweep simulates the classic policies and Edge on the log, replays it
// through edgeproxy in each variant at each size, and writes the table of
// issue 17 (HR and BHR at each size), and all figures as JSON when
// o.jsonOut is set.
func sweep(ctx context.Context, o options, bins binaries, dir string, vs []variant, pcts, ths []float64) error {
	l, err := tracelog.ReadFile(o.log)
	if err != nil {
		return err
	}
	t := sim.NewTrace(tracelog.Cacheable(l), true)
	var rows []sweepRow
	for _, name := range sim.Policies {
		row := sweepRow{Name: simName(name)}
		for _, p := range pcts {
			capacity := int64(float64(t.Bytes) * p / 100)
			pol, err := sim.New(name, t, capacity)
			if err != nil {
				return err
			}
			r := sim.Run(name, t, capacity, pol)
			row.Results = append(row.Results, sweepFigures{Percent: p, Capacity: capacity, HitRatio: r.HitRatio, ByteHitRatio: r.ByteHitRatio})
		}
		rows = append(rows, row)
	}
	for _, v := range vs {
		row := sweepRow{Name: "edgeproxy, " + v.Name}
		for _, p := range pcts {
			capacity := int64(float64(t.Bytes) * p / 100)
			oo := o
			oo.cache = splitBudget(capacity, v.Policy)
			vv := v
			vv.Name = fmt.Sprintf("%s-%g", v.Name, p)
			log.Printf("compare: %s at %g%% (%s): replaying %s", v.Name, p, mib(capacity), o.log)
			out, err := runVariant(ctx, bins, dir, o.log, vv, oo)
			if err != nil {
				return fmt.Errorf("%s at %g%%: %w", v.Name, p, err)
			}
			r := out.Replay
			log.Printf("compare: %s at %g%%: HR %.3f BHR %.3f in %.1f s (%d errors)", v.Name, p, r.HitRatio, r.ByteHitRatio, r.Seconds, r.Errors)
			row.Results = append(row.Results, sweepFigures{Percent: p, Capacity: capacity, HitRatio: r.HitRatio, ByteHitRatio: r.ByteHitRatio, Replay: &r, Counters: out.Counters})
		}
		rows = append(rows, row)
	}
	objects, bytes := tracelog.Distinct(tracelog.Cacheable(l))
	if err := writeSweep(os.Stdout, o.log, len(l.Records), objects, bytes, pcts, rows); err != nil {
		return err
	}
	writePrefetchCheck(os.Stdout, t, rows)
	writePrefetchCurves(os.Stdout, t, pcts, ths)
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(rows, "", "  ")
		return os.WriteFile(o.jsonOut, append(b, '\n'), 0o644)
	}
	return nil
}

func simName(policy string) string {
	switch policy {
	case "lru":
		return "LRU (simulated)"
	case "gdsf":
		return "GDSF, Squid's heap (simulated)"
	case "lfuda":
		return "LFUDA, Squid's heap (simulated)"
	case "belady":
		return "Belady (offline reference, simulated)"
	case "edge":
		return "Edge, edgeproxy's policy (simulated)"
	}
	return policy
}

// writeSweep writes the table.
func writeSweep(w io.Writer, path string, requests, objects int, bytes int64, pcts []float64, rows []sweepRow) error {
	fmt.Fprintf(w, "Trace: %s: %d requests, %d objects, %s distinct. Replays serial, of what the simulator reads (replay -serial -largest: every 200 and 304 a 200 of the URL's largest size), tier S a quarter of each size (edge: 1 MiB), at least 1 MiB.\n\n",
		filepath.Base(path), requests, objects, mib(bytes))
	var sz []string
	for _, p := range pcts {
		sz = append(sz, fmt.Sprintf("%g%%", p))
	}
	fmt.Fprintf(w, "| policy | HR %s | BHR %s | uplink | prefetch precision |\n|---|---|---|---|---|\n", strings.Join(sz, " / "), strings.Join(sz, " / "))
	for _, row := range rows {
		var hr, bhr, up, prec []string
		for _, f := range row.Results {
			hr = append(hr, fmt.Sprintf("%.3f", f.HitRatio))
			bhr = append(bhr, fmt.Sprintf("%.3f", f.ByteHitRatio))
			if f.Replay != nil {
				up = append(up, mib(f.Replay.UplinkBytes))
				if f.Replay.Prefetches > 0 {
					prec = append(prec, fmt.Sprintf("%.2f", f.Replay.PrefetchPrecision))
				}
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", row.Name, strings.Join(hr, " / "), strings.Join(bhr, " / "), orDash(up), orDash(prec))
	}
	return nil
}

func orDash(s []string) string {
	if len(s) == 0 {
		return "–"
	}
	return strings.Join(s, " / ")
}
