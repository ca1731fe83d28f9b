// Command cluster measures what splitting a cache over N nodes costs or
// gains (issue 14): on a real access log, the hit ratios of N nodes with X
// bytes each, every URL cached only at its CARP owner (engine/cluster, the
// nodes' own hash), against one node with N·X bytes, under the same
// simulated policy (bench/trace/sim); and the share of URLs that move to a
// new node when one joins.
//
//	cluster -log ../shared/traces/blog-2016.squid.log.gz [-nodes 3] [-sizes 1,5,10] [-policies edge,lru]
//
// A size p gives the single node p% of the log's distinct bytes and each of
// the N nodes p%/N, so both sides hold the same bytes in all. Each node
// sees only the requests for the URLs it owns, in log order.
package main

import (
	"flag"
	"fmt"
	"log"
	"math"
	"strconv"
	"strings"

	"edgeproxy/bench/trace/sim"
	"edgeproxy/bench/trace/tracelog"
	"edgeproxy/engine/cluster"
)

func main() {
	path := flag.String("log", "", "access log (Squid native or Common/Combined, .gz allowed)")
	nodes := flag.Int("nodes", 3, "nodes in the cluster")
	sizes := flag.String("sizes", "1,5,10", "total cache sizes, percent of the distinct bytes")
	policies := flag.String("policies", "edge,lru", "policies to simulate")
	flag.Parse()
	if *path == "" || *nodes < 1 {
		log.Fatal("cluster: -log is required, and -nodes at least 1")
	}
	l, err := tracelog.ReadFile(*path)
	if err != nil {
		log.Fatalf("cluster: %v", err)
	}
	reqs := tracelog.Cacheable(l)
	whole := sim.NewTrace(reqs, true)

	tab := table(*nodes)
	parts := make([][]tracelog.Request, *nodes)
	for _, r := range reqs {
		o := tab.Owner([]byte(r.Key), nil)
		parts[o] = append(parts[o], r)
	}
	traces := make([]*sim.Trace, *nodes)
	for i, p := range parts {
		traces[i] = sim.NewTrace(p, true)
	}
	// The same nodes without hashing: requests dealt out in turn, as a
	// round-robin balancer would, so every node caches every URL.
	rr := make([]*sim.Trace, *nodes)
	for i := range rr {
		var p []tracelog.Request
		for j := i; j < len(reqs); j += *nodes {
			p = append(p, reqs[j])
		}
		rr[i] = sim.NewTrace(p, true)
	}

	fmt.Printf("%s: %d requests, %d objects, %d distinct bytes; %d nodes\n\n", *path, len(whole.IDs), whole.Objects, whole.Bytes, *nodes)
	fmt.Printf("| node | requests | objects | distinct bytes |\n|---|---:|---:|---:|\n")
	for i, t := range traces {
		fmt.Printf("| n%d | %d | %d | %d |\n", i+1, len(t.IDs), t.Objects, t.Bytes)
	}
	fmt.Println()
	fmt.Printf("| policy | total size | 1 node HR | %d nodes HR | round robin HR | 1 node BHR | %d nodes BHR | round robin BHR |\n|---|---|---:|---:|---:|---:|---:|---:|\n", *nodes, *nodes)
	for name := range strings.SplitSeq(*policies, ",") {
		for s := range strings.SplitSeq(*sizes, ",") {
			pct, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || pct <= 0 {
				log.Fatalf("cluster: bad size %q", s)
			}
			total := int64(float64(whole.Bytes) * pct / 100)
			one := run(name, whole, total)
			sum, rsum := runAll(name, traces, total/int64(*nodes)), runAll(name, rr, total/int64(*nodes))
			fmt.Printf("| %s | %g%% (%d nodes × %d B) | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f |\n", name, pct, *nodes, total/int64(*nodes),
				one.HitRatio, sum.HitRatio, rsum.HitRatio, one.ByteHitRatio, sum.ByteHitRatio, rsum.ByteHitRatio)
		}
	}

	// A node joins: the URLs whose owner changes, all of them to the new one.
	more := table(*nodes + 1)
	moved, toNew, urls := 0, 0, map[string]bool{}
	for _, r := range reqs {
		if urls[r.Key] {
			continue
		}
		urls[r.Key] = true
		before, after := tab.Owner([]byte(r.Key), nil), more.Owner([]byte(r.Key), nil)
		if before != after {
			moved++
			if after == *nodes {
				toNew++
			}
		}
	}
	fmt.Printf("\nnode n%d joins: %d of %d URLs move (%.1f%%, expected %.1f%%), %d of them to the new node\n",
		*nodes+1, moved, len(urls), 100*ratio(int64(moved), int64(len(urls))), 100/float64(*nodes+1), toNew)
}

// table is the CARP table of n equal nodes named n1…nN.
func table(n int) *cluster.Table {
	ms := make([]cluster.Member, n)
	for i := range ms {
		ms[i] = cluster.Member{Name: "n" + strconv.Itoa(i+1), Weight: 1}
	}
	t, err := cluster.New(ms)
	if err != nil {
		log.Fatal(err)
	}
	return t
}

func run(name string, t *sim.Trace, capacity int64) sim.Result {
	p, err := sim.New(name, t, capacity)
	if err != nil {
		log.Fatal(err)
	}
	return sim.Run(name, t, capacity, p)
}

// runAll simulates each trace with capacity bytes and adds the results up.
func runAll(name string, ts []*sim.Trace, capacity int64) sim.Result {
	var sum sim.Result
	for _, t := range ts {
		r := run(name, t, capacity)
		sum.Requests += r.Requests
		sum.Hits += r.Hits
		sum.Bytes += r.Bytes
		sum.HitBytes += r.HitBytes
	}
	sum.HitRatio, sum.ByteHitRatio = ratio(sum.Hits, sum.Requests), ratio(sum.HitBytes, sum.Bytes)
	return sum
}

func ratio(a, b int64) float64 { return float64(a) / math.Max(1, float64(b)) }
