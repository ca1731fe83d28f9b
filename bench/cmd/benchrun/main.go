// Command benchrun is the orchestrator of edgeproxy's load-test harness.
//
// It starts a backing origin (bench/origin), then for each round, each
// scenario and each product starts that product fresh on 127.0.0.1 (peers
// from the templates in bench/peers), warms it, drives the scenario's load
// (wrk with bench/wrk scripts, bench/tunnel, bench/idle), reads the
// server's CPU and memory from /proc, checks that hits were hits, and stops
// it by pid. Products are interleaved within each round, so every round
// compares them under the same machine weather. Finally it writes
// results.json, report.md (with the targets section) and chart.png.
//
// bench/run is the operator's entry point: it installs the peers, builds
// the tools and calls benchrun.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// config is benchrun's command line.
type config struct {
	scenarios   []string
	products    []string
	duration    time.Duration
	reps        int
	idleConns   int
	out         string
	benchDir    string // bench/ (peers/, wrk/)
	toolDir     string // built bench tools: origin, ceiling, idle, tunnel
	edgeproxy   string // path of the edgeproxy binary
	cacheMiB    int64
	tunnelBytes int64
	wrkTimeout  string
	noPin       bool
	profile     bool
	nice        int
	maxForeign  float64 // percent; 0: never repeat a run
	tries       int

	// edgeproxyBase is the baseline binary (product edgeproxy-base), ""
	// for none; baseRev, when set, is the git revision built into it.
	edgeproxyBase string
	baseRev       string
}

func names[T any](xs []T, name func(T) string) string {
	var s []string
	for _, x := range xs {
		s = append(s, name(x))
	}
	return strings.Join(s, ",")
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("benchrun", flag.ContinueOnError)
	scen := fs.String("scenarios", names(allScenarios, func(s scenario) string { return s.name }), "comma-separated scenarios")
	prods := fs.String("products", names(products(), func(p *product) string { return p.name }), "comma-separated products (edgeproxy-base only when a baseline is given)")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "measured duration of each wrk run (whole seconds)")
	fs.IntVar(&c.reps, "reps", 3, "rounds: every scenario runs this many times per product, interleaved")
	fs.IntVar(&c.idleConns, "conns-idle", 10000, "connections held in idle-10k")
	fs.StringVar(&c.out, "out", "", "results directory (default bench/results/<YYYY-MM-DD-HHMM>)")
	fs.StringVar(&c.benchDir, "bench-dir", "bench", "the bench/ directory")
	fs.StringVar(&c.toolDir, "tool-dir", "bench/.build", "directory of the built bench tools")
	fs.StringVar(&c.edgeproxy, "edgeproxy", "bin/edgeproxy", "edgeproxy binary")
	fs.StringVar(&c.edgeproxyBase, "edgeproxy-base", "", "baseline edgeproxy binary, measured as product edgeproxy-base (default: none; with -base-rev: <tool-dir>/edgeproxy-base)")
	fs.StringVar(&c.baseRev, "base-rev", "", "git revision to build into -edgeproxy-base before the run (git archive into a temporary directory, then its make build)")
	fs.Int64Var(&c.cacheMiB, "cache-mib", 512, "common cache size given to every caching product, MiB")
	fs.Int64Var(&c.tunnelBytes, "tunnel-bytes", 1<<30, "bytes moved per tunnel transfer")
	fs.StringVar(&c.wrkTimeout, "wrk-timeout", "5s", "wrk --timeout: a response slower than this counts as a socket error")
	fs.BoolVar(&c.noPin, "no-pin", false, "do not pin load and server to separate CPUs")
	fs.BoolVar(&c.profile, "profile", true, "fetch edgeproxy CPU profiles for missed targets")
	fs.Float64Var(&c.maxForeign, "max-foreign", 0, "repeat a load run in which other processes took more than this percentage of the server's or the load's CPUs, up to -tries attempts, keeping the least disturbed (0: off)")
	fs.IntVar(&c.tries, "tries", 3, "attempts per run at most, with -max-foreign")
	fs.IntVar(&c.nice, "nice", 0, "niceness of every process the run starts (-20..19; e.g. -10 so that other work on a shared machine disturbs the run less; needs root below 0)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	c.scenarios = splitList(*scen)
	c.products = splitList(*prods)
	if c.baseRev != "" && c.edgeproxyBase == "" {
		c.edgeproxyBase = filepath.Join(c.toolDir, "edgeproxy-base")
	}
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["products"] && c.edgeproxyBase == "" {
		c.products = slices.DeleteFunc(c.products, func(p string) bool { return p == baseProduct })
	}
	for _, s := range c.scenarios {
		if _, ok := scenarioByName(s); !ok {
			return c, fmt.Errorf("unknown scenario %q (have %s)", s, names(allScenarios, func(s scenario) string { return s.name }))
		}
	}
	known := make(map[string]bool)
	for _, p := range products() {
		known[p.name] = true
	}
	for _, p := range c.products {
		if !known[p] {
			return c, fmt.Errorf("unknown product %q", p)
		}
	}
	switch {
	case c.duration < time.Second || c.duration%time.Second != 0:
		return c, errors.New("-duration must be whole seconds, at least 1s")
	case c.reps < 1:
		return c, errors.New("-reps must be at least 1")
	case c.idleConns < 1:
		return c, errors.New("-conns-idle must be at least 1")
	case c.maxForeign < 0 || c.maxForeign >= 100:
		return c, errors.New("-max-foreign must be within 0..100 (percent)")
	case c.tries < 1:
		return c, errors.New("-tries must be at least 1")
	case c.nice < -20 || c.nice > 19:
		return c, errors.New("-nice must be within -20..19")
	}
	if c.out == "" {
		c.out = filepath.Join(c.benchDir, "results", time.Now().Format("2006-01-02-1504"))
	}
	return c, nil
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(2)
	}
	var base *baseBuild
	if cfg.baseRev != "" {
		b, err := buildBase(cfg.benchDir, cfg.baseRev, cfg.edgeproxyBase, func(format string, a ...any) {
			fmt.Fprintf(os.Stderr, "benchrun: "+format+"\n", a...)
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchrun:", err)
			os.Exit(1)
		}
		base = &b
	}
	h, err := newHarness(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
	h.base = base
	procs.nice = cfg.nice

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "\nbenchrun: %v: stopping every process it started\n", s)
		procs.stopAll()
		h.cleanup()
		os.Exit(130)
	}()

	err = h.run()
	procs.stopAll()
	h.cleanup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
}
