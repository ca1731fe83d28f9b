package main

import (
	"fmt"
	"strconv"
	"strings"

	"edgeproxy/cache/prefetch"
)

// variant is one proxy configuration of the comparison. Variants differ
// only in admission and prefetching; everything else is the same.
type variant struct {
	Name      string
	Policy    string // cache.policy
	Admission bool   // cache.admission
	Prefetch  bool   // prefetch.enabled
}

// variants are the configurations -configs may name. "lru" is the baseline
// the byte hit ratios are divided by.
var variants = []variant{
	{Name: "lru", Policy: "lru"},
	{Name: "admission", Policy: "lru", Admission: true},
	{Name: "admission+prefetch", Policy: "lru", Admission: true, Prefetch: true},
	{Name: "lru+prefetch", Policy: "lru", Prefetch: true},
	{Name: "edge", Policy: "edge", Admission: true},
	{Name: "edge+prefetch", Policy: "edge", Admission: true, Prefetch: true},
}

// baseline is the name of the variant the others are compared with.
const baseline = "lru"

// defaultVariants are the three configurations issue 6 asks for.
var defaultVariants = []string{"lru", "admission", "admission+prefetch"}

func variantNames() string {
	names := make([]string, len(variants))
	for i, v := range variants {
		names[i] = v.Name
	}
	return strings.Join(names, ", ")
}

// pickVariants returns the variants named in the comma-separated list, in
// its order.
func pickVariants(list string) ([]variant, error) {
	var out []variant
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		i := 0
		for i < len(variants) && variants[i].Name != name {
			i++
		}
		if i == len(variants) {
			return nil, fmt.Errorf("%w: %q, want one of %s", errUnknownConfig, name, variantNames())
		}
		out = append(out, variants[i])
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: -configs is empty", errUnknownConfig)
	}
	return out, nil
}

// cacheSizes are the cache keys every variant shares, as the config file
// spells them ("16MiB").
type cacheSizes struct {
	Memory, LargeMemory, MaxObject string
}

// prefetchSettings is the prefetch block of a variant with prefetching:
// the proxy's defaults (threshold 0.3, min_count 2, proof 1,
// client_precision 0.2, max_object
// 256KiB), except a budget wide enough that a replay running as fast as
// the proxy answers is not starved by it, and no span: the replay
// compresses the log's time, so a span of seconds would cover thousands
// of logged seconds. The simulator's row to compare with runs without a
// span too (prefetchSim).
var prefetchSettings = "{enabled: true, threshold: 0.3, span: -1s, max_bandwidth: 50MiB, max_concurrent: 8, max_load: 0.9}"

// prefetchThreshold is the threshold in prefetchSettings.
var prefetchThreshold = prefetch.DefaultThreshold

// setPrefetchThreshold replaces the threshold of prefetchSettings.
func setPrefetchThreshold(th float64) {
	prefetchSettings = strings.Replace(prefetchSettings, "threshold: 0.3", "threshold: "+strconv.FormatFloat(th, 'g', -1, 64), 1)
	prefetchThreshold = th
}

// proxyConfig renders the YAML configuration of v. The access log goes to
// accessLog, or nowhere if it is ""; refresh-ahead is off (so that only
// admission and prefetching differ), and a stop drains for at most 2 s.
func proxyConfig(v variant, c cacheSizes, listen, admin, accessLog string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# edgeproxy trace comparison: %s\n", v.Name)
	fmt.Fprintf(&b, "listen: %s\n", listen)
	fmt.Fprintf(&b, "admin: %s\n", admin)
	if accessLog == "" {
		accessLog = "off"
	}
	fmt.Fprintf(&b, "log: {format: squid, path: %s}\n", strconv.Quote(accessLog))
	b.WriteString("timeouts: {drain: 2s}\n")
	b.WriteString("acl: {allow_local_destinations: true}\n") // the replay origin is on loopback
	fmt.Fprintf(&b, "cache: {memory: %s, large_memory: %s, max_object: %s, policy: %s, admission: %t}\n",
		c.Memory, c.LargeMemory, c.MaxObject, v.Policy, v.Admission)
	b.WriteString("refresh_ahead: {enabled: false}\n")
	if v.Prefetch {
		fmt.Fprintf(&b, "prefetch: %s\n", prefetchSettings)
	} else {
		b.WriteString("prefetch: {enabled: false}\n")
	}
	return b.String()
}
