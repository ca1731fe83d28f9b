// Command simulate runs the cache policies of package sim (LRU, Squid's
// GDSF and LFUDA, Belady, and edgeproxy's Edge) over a real access log at
// cache sizes given as percentages of the log's distinct bytes, and prints
// their request and byte hit ratios as a markdown table, or JSON.
//
//	simulate -log ../shared/traces/blog-2016.squid.log.gz [-sizes 1,5,10] [-json]
//
// With -prefetch 0.2,0.3,… it also prints, for each size, the prefetch
// curve of the edge policy: per threshold the misses removed (requests and
// bytes), the extra uplink, the bytes prefetched and wasted, and the
// precision, with the learner and selection the proxy runs at its defaults
// (the -prefetch-* flags change them).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"

	"edgeproxy/bench/trace/sim"
	"edgeproxy/bench/trace/tracelog"
)

func main() {
	path := flag.String("log", "", "access log (Squid native or Common/Combined, .gz allowed)")
	sizes := flag.String("sizes", "1,5,10", "cache sizes, percent of the distinct bytes")
	policies := flag.String("policies", strings.Join(sim.Policies, ","), "policies to run")
	beta := flag.Float64("beta", 0, "Edge: size exponent (0: the default)")
	noAdmit := flag.Bool("no-admit", false, "Edge: store every miss")
	versions := flag.Bool("versions", false, "an object is a URL at one logged size (a new size is a new object), not a URL at its largest size")
	sketch := flag.Bool("sketch", false, "Edge: start a stored object's count at the TinyLFU sketch's estimate")
	expected := flag.Int("expected", 0, "Edge: sketch width (0: capacity/16KiB, at least 1024)")
	asJSON := flag.Bool("json", false, "print JSON")
	pf := prefetchFlags()
	flag.Parse()
	if *path == "" {
		log.Fatal("simulate: -log is required")
	}
	l, err := tracelog.ReadFile(*path)
	if err != nil {
		log.Fatalf("simulate: %v", err)
	}
	t := sim.NewTrace(tracelog.Cacheable(l), !*versions)
	var pcts []float64
	for s := range strings.SplitSeq(*sizes, ",") {
		p, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || p <= 0 {
			log.Fatalf("simulate: bad size %q", s)
		}
		pcts = append(pcts, p)
	}
	cfg := sim.EdgeConfig{Beta: *beta, NoAdmit: *noAdmit, Sketch: *sketch, Expected: *expected}
	var rows [][]sim.Result
	for name := range strings.SplitSeq(*policies, ",") {
		var row []sim.Result
		for _, p := range pcts {
			capacity := int64(float64(t.Bytes) * p / 100)
			var pol sim.Policy
			if name == "edge" {
				pol = sim.NewEdge(t, capacity, cfg)
			} else if pol, err = sim.New(name, t, capacity); err != nil {
				log.Fatal(err)
			}
			row = append(row, sim.Run(name, t, capacity, pol))
		}
		rows = append(rows, row)
	}
	curves, err := pf.curves(t, pcts, cfg)
	if err != nil {
		log.Fatalf("simulate: %v", err)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if curves == nil {
			_ = enc.Encode(rows) // the shape before -prefetch
			return
		}
		_ = enc.Encode(struct {
			Policies [][]sim.Result         `json:"policies"`
			Prefetch [][]sim.PrefetchResult `json:"prefetch,omitempty"`
		}{rows, curves})
		return
	}
	fmt.Printf("%s: %d requests, %d objects, %d distinct bytes\n\n", *path, len(t.IDs), t.Objects, t.Bytes)
	fmt.Print(sim.Table(pcts, rows))
	for i, c := range curves {
		fmt.Printf("\nPrefetching with the edge policy at %g%% (%s): %s.\n\n", pcts[i], pf, c[0].Unpredictable())
		fmt.Print(sim.CurveTable(c))
	}
}
