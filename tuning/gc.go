package tuning

import (
	"os"
	"runtime/debug"
)

// garbageAllowance is how much garbage the collector should let pile up
// above the live heap. The in-memory cache is live heap (freecache allocates
// its whole size up front), and GOGC is a percentage of the live heap: with
// the default 100, a 512 MiB cache lets 512 MiB of short-lived garbage
// accumulate between collections, and the process's RSS grows by as much
// even when nothing is being cached. Measured in bench/ before this: 546 MiB
// peak RSS in the pass-through scenario with a 512 MiB cache.
const garbageAllowance = 128 << 20

// GC percents ApplyGC chooses between.
const (
	minGCPercent = 10
	maxGCPercent = 100
)

// ApplyGC sets GOGC so that the heap may grow by about 128 MiB over a live
// heap of preallocated bytes (the in-memory cache), unless the operator set
// GOGC. It returns the percent in effect and what decided it (SourceEnv,
// SourceRuntime or SourceCache). Collections of a larger live heap cost
// little more: freecache's segments hold no pointers, so marking skips them.
func ApplyGC(preallocated int64) (percent int, source string) {
	_, envSet := os.LookupEnv("GOGC")
	current := debug.SetGCPercent(100)
	debug.SetGCPercent(current)
	percent, source = planGCPercent(envSet, current, preallocated)
	if percent != current {
		debug.SetGCPercent(percent)
	}
	return percent, source
}

// planGCPercent decides GOGC; see ApplyGC.
func planGCPercent(envSet bool, current int, preallocated int64) (int, string) {
	if envSet || current < 0 {
		return current, SourceEnv
	}
	if preallocated <= 0 {
		return current, SourceRuntime
	}
	p := int(int64(garbageAllowance) * 100 / preallocated)
	return min(max(p, minGCPercent), maxGCPercent), SourceCache
}
