package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// writeReport writes the comparison as markdown: a line on the trace and
// cache, the table of replay figures, any replay failures, and the table
// of proxy counters.
func writeReport(w io.Writer, t traceInfo, c cacheSizes, outs []outcome) error {
	bw := bufio.NewWriter(w)
	if t.Requests > 0 {
		fmt.Fprintf(bw, "Trace: generated, %d requests, %d clients, seed %d.", t.Requests, t.Clients, t.Seed)
	} else {
		fmt.Fprintf(bw, "Trace: %s.", t.Path)
	}
	if len(outs) > 0 {
		r := &outs[0].Replay
		fmt.Fprintf(bw, " Requested: %s.", mib(r.Bytes))
	}
	fmt.Fprintf(bw, " Cache: memory %s, large_memory %s, max_object %s; refresh-ahead off.\n", c.Memory, c.LargeMemory, c.MaxObject)
	fmt.Fprintf(bw, "Prefetch, where on: %s.\n\n", prefetchSettings)

	base := -1.0
	for i := range outs {
		if outs[i].Variant.Name == baseline {
			base = outs[i].Replay.ByteHitRatio
		}
	}
	bw.WriteString("| configuration | requests | hit ratio | byte hit ratio | byte hit ratio / lru | uplink | prefetches | prefetch precision | wasted prefetch |\n")
	bw.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for i := range outs {
		r := &outs[i].Replay
		vs, precision := "–", "–"
		if base > 0 {
			vs = strconv.FormatFloat(r.ByteHitRatio/base, 'f', 3, 64)
		}
		if r.Prefetches > 0 {
			precision = fmt.Sprintf("%.4f (%d useful)", r.PrefetchPrecision, r.PrefetchUseful)
		}
		fmt.Fprintf(bw, "| %s | %d | %.4f | %.4f | %s | %s | %d | %s | %s |\n",
			outs[i].Variant.Name, r.Requests, r.HitRatio, r.ByteHitRatio, vs,
			mib(r.UplinkBytes), r.Prefetches, precision, mib(r.WastedPrefetchBytes))
	}
	for i := range outs {
		if r := &outs[i].Replay; r.Errors > 0 {
			fmt.Fprintf(bw, "\n%s: %d requests failed; first: %s\n", outs[i].Variant.Name, r.Errors, r.FirstError)
		}
	}

	bw.WriteString("\nProxy counters (admin /metrics) after each replay:\n\n")
	bw.WriteString("| configuration | admitted | rejected | ghost | evicted (memory) | evicted (large) | prefetch started | prefetch skipped | prefetch hits | prefetch bytes |\n")
	bw.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for i := range outs {
		c := outs[i].Counters
		fmt.Fprintf(bw, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", outs[i].Variant.Name,
			c.get(`edgeproxy_cache_admission_total{decision="admitted"}`),
			c.get(`edgeproxy_cache_admission_total{decision="rejected"}`),
			c.get(`edgeproxy_cache_admission_total{decision="ghost"}`),
			c.get(`edgeproxy_cache_evictions_total{tier="memory"}`),
			c.get(`edgeproxy_cache_evictions_total{tier="large"}`),
			c.get("edgeproxy_prefetch_started_total"),
			c.get("edgeproxy_prefetch_skipped_total"),
			c.get("edgeproxy_prefetch_hits_total"),
			c.get("edgeproxy_prefetch_bytes_total"))
	}
	return bw.Flush()
}

// get formats the sample name as an integer, or "–" when the proxy did not
// report it.
func (c counters) get(name string) string {
	v, ok := c[name]
	if !ok {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// mib formats a byte count in MiB with one decimal.
func mib(n int64) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}
