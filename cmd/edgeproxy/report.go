package main

import (
	"fmt"
	"io"

	"edgeproxy/cache/prefetch"
)

// prefetchReport prints the dependency graph the prefetcher would learn
// from an access log (Squid native or Common/Combined Log Format): the top
// arcs with their probabilities, and the share of requests, and of bytes,
// that the prefetch sets would have predicted. The graph's options come
// from prefetch.* in --config (or the defaults), and the flags override
// them.
func prefetchReport(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("edgeproxy prefetch-report", stderr)
	var (
		logPath    = fs.String("log", "", "access log `file` to learn from (Squid native or Common Log Format)")
		configPath = fs.String("config", "", "YAML configuration `file` whose prefetch.* keys to use")
		window     = fs.Int("window", 0, "override prefetch.window: the requests after A that count for A → B")
		threshold  = fs.Float64("threshold", 0, "override prefetch.threshold: the least p(A → B) that prefetches B")
		minCount   = fs.Int("min-count", 0, "override prefetch.min_count: the requests of A before it predicts")
	)
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if *logPath == "" {
		fmt.Fprintln(stderr, "usage: edgeproxy prefetch-report --log FILE [--config FILE] [--window N] [--threshold K] [--min-count N]")
		return 2
	}
	cfg, err := loadConfig(*configPath, overrides{})
	if err != nil {
		fmt.Fprintln(stderr, "edgeproxy prefetch-report:", err)
		return 2
	}
	p := &cfg.Prefetch
	if *window != 0 {
		p.Window = *window
	}
	if *threshold != 0 {
		p.Threshold = *threshold
	}
	if *minCount != 0 {
		p.MinCount = *minCount
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "edgeproxy prefetch-report:", err)
		return 2
	}
	opts := prefetch.Options{Window: p.Window, Threshold: p.Threshold, MinCount: p.MinCount, MaxNodes: p.MaxNodes,
		Span: max(p.Span.Std(), 0)} // the log's own times; negative: no bound
	if err := prefetch.RunReport(stdout, *logPath, opts); err != nil {
		fmt.Fprintln(stderr, "edgeproxy prefetch-report:", err)
		return 1
	}
	return 0
}
