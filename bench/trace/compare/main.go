// Command compare measures what admission and prefetching add to a plain
// LRU cache, on the same trace and cache size (issue 6).
//
// It builds edgeproxy, gen and replay (or takes -edgeproxy), generates a
// trace with gen (or takes -log), and for each configuration starts a
// fresh proxy on a free 127.0.0.1 port, replays the whole trace through it
// with `replay -bind-clients -json`, reads the proxy's admission and
// prefetch counters from its admin /metrics, and stops it by its pid. The
// configurations differ only in cache.admission and prefetch.enabled;
// refresh-ahead is off in all of them. It prints two markdown tables: the
// replay's figures, with each byte hit ratio divided by the LRU's, and the
// proxy's counters.
//
// Run it from the repository (it builds with `go build`):
//
//	go run ./bench/trace/compare -requests 30000 -seed 1
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// options are the command's flags.
type options struct {
	log         string // trace to replay; "" generates one
	requests    int    // lines of a generated trace
	clients     int    // clients of a generated trace
	seed        uint64 // seed of a generated trace
	edgeproxy   string // proxy binary; "" builds one
	configs     string // comma-separated variant names
	concurrency int    // replay workers
	work        string // directory for binaries, trace, configs and logs
	keep        bool   // keep the work directory
	accessLogs  bool   // proxies write access logs into the work directory
	cache       cacheSizes
	sizes       string // with -log: cache sizes, percent of distinct bytes
	serial      bool   // replay serially
	jsonOut     string // write the sweep's figures as JSON here
	curve       string // with -sizes: thresholds of the simulated prefetch curve
}

func main() {
	var o options
	flag.StringVar(&o.log, "log", "", "trace to replay (Squid or Common/Combined log); empty: generate one with gen")
	flag.IntVar(&o.requests, "requests", 30000, "requests of the generated trace")
	flag.IntVar(&o.clients, "clients", 200, "clients of the generated trace")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the generated trace")
	flag.StringVar(&o.edgeproxy, "edgeproxy", "", "edgeproxy binary; empty: go build ./cmd/edgeproxy")
	flag.StringVar(&o.configs, "configs", strings.Join(defaultVariants, ","), "configurations to run, of: "+variantNames())
	flag.IntVar(&o.concurrency, "concurrency", 32, "replay workers")
	flag.StringVar(&o.work, "work", "", "work directory (binaries, trace, proxy configs and logs); empty: a temporary one")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory")
	flag.BoolVar(&o.accessLogs, "access-logs", false, "proxies write Squid access logs (prefetches marked PREFETCH) into the work directory; implies -keep")
	flag.StringVar(&o.cache.Memory, "memory", "16MiB", "cache.memory of every proxy (tier S)")
	flag.StringVar(&o.cache.LargeMemory, "large-memory", "64MiB", "cache.large_memory of every proxy (tier L)")
	flag.StringVar(&o.cache.MaxObject, "max-object", "64MiB", "cache.max_object of every proxy")
	flag.StringVar(&o.sizes, "sizes", "", "with -log: cache sizes in percent of the log's distinct bytes (e.g. 1,5,10): print issue 17's table, simulated policies included")
	flag.BoolVar(&o.serial, "serial", false, "replay serially, in log order (deterministic without prefetching); -sizes implies it")
	flag.StringVar(&o.jsonOut, "json", "", "with -sizes: write every figure as JSON to this file")
	threshold := flag.Float64("prefetch-threshold", 0, "prefetch.threshold of variants with prefetching (0: the default, 0.3)")
	flag.StringVar(&o.curve, "prefetch-curve", "0.2,0.3,0.4,0.5,0.6,0.7", "with -sizes: thresholds of the simulated prefetch curve (empty: none)")
	flag.Parse()
	if *threshold > 0 {
		setPrefetchThreshold(*threshold)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := 0
	if err := run(ctx, o); err != nil {
		log.Print(err)
		code = 1
	}
	stop()
	os.Exit(code)
}

// run does the whole comparison and prints the tables.
func run(ctx context.Context, o options) error {
	o.keep = o.keep || o.accessLogs
	vs, err := pickVariants(o.configs)
	if err != nil {
		return err
	}
	dir := o.work
	if dir == "" {
		if dir, err = os.MkdirTemp("", "edgeproxy-compare-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if o.keep {
		log.Printf("compare: work directory %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	bins, err := build(ctx, dir, o.edgeproxy)
	if err != nil {
		return err
	}
	tr := traceInfo{Path: o.log}
	if tr.Path == "" {
		tr = traceInfo{Requests: o.requests, Clients: o.clients, Seed: o.seed}
		if tr.Path, err = generate(ctx, bins.gen, dir, tr); err != nil {
			return err
		}
	}

	if o.sizes != "" && o.log != "" {
		pcts, err := parsePercents(o.sizes)
		if err != nil {
			return err
		}
		ths, err := parseThresholds(o.curve)
		if err != nil {
			return err
		}
		o.serial = true
		return sweep(ctx, o, bins, dir, vs, pcts, ths)
	}

	var outs []outcome
	for _, v := range vs {
		log.Printf("compare: %s: replaying %s", v.Name, tr.Path)
		out, err := runVariant(ctx, bins, dir, tr.Path, v, o)
		if err != nil {
			return fmt.Errorf("%s: %w", v.Name, err)
		}
		log.Printf("compare: %s: %d requests in %.1f s, byte hit ratio %.4f", v.Name, out.Replay.Requests, out.Replay.Seconds, out.Replay.ByteHitRatio)
		outs = append(outs, out)
	}
	return writeReport(os.Stdout, tr, o.cache, outs)
}
