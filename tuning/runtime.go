package tuning

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

// memLimitBase is the memory ApplyRuntime allows beyond the cache and its
// headroom: the runtime itself, goroutine stacks, and the event loops' and
// origin client's buffers at rest.
const memLimitBase = 64 << 20

// defaultHeadroom is the share of the cache size added for garbage the
// collector has not yet reclaimed and for buffers under load.
const defaultHeadroom = 0.25

// Sources of a runtime setting, in RuntimeSettings.
const (
	// SourceEnv means the operator's environment variable decided.
	SourceEnv = "environment"
	// SourceRuntime means the Go runtime's own default decided:
	// cgroup-aware GOMAXPROCS, or no memory limit.
	SourceRuntime = "go runtime"
	// SourceCgroup means ApplyRuntime set GOMAXPROCS from the CPU quota.
	SourceCgroup = "cgroup quota"
	// SourceCache means ApplyRuntime set the memory limit from the cache.
	SourceCache = "cache size"
)

// RuntimeSettings is what ApplyRuntime found and did, for one log line.
type RuntimeSettings struct {
	// GOMAXPROCS is the value in effect when ApplyRuntime returned.
	GOMAXPROCS int
	// ProcsSource says what decided GOMAXPROCS: SourceEnv, SourceRuntime
	// or SourceCgroup.
	ProcsSource string
	// ProcsChanged reports whether ApplyRuntime called runtime.GOMAXPROCS.
	ProcsChanged bool
	// CPUQuota is the cgroup CPU quota in CPUs, or 0 when there is none.
	CPUQuota float64
	// MemoryLimit is the soft memory limit in effect when ApplyRuntime
	// returned; math.MaxInt64 means none.
	MemoryLimit int64
	// MemLimitSource says what decided MemoryLimit: SourceEnv,
	// SourceRuntime or SourceCache.
	MemLimitSource string
	// MemLimitChanged reports whether ApplyRuntime called
	// debug.SetMemoryLimit.
	MemLimitChanged bool
	// CgroupMemory is the cgroup memory limit in bytes, or 0 when there
	// is none.
	CgroupMemory int64
	// Warning is non-empty when the memory limit is above the cgroup
	// memory limit: the kernel then kills the process before the
	// collector works harder.
	Warning string
}

// String formats s for a start-up log line.
func (s RuntimeSettings) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "GOMAXPROCS=%d (%s", s.GOMAXPROCS, s.ProcsSource)
	if s.CPUQuota > 0 {
		fmt.Fprintf(&b, ", quota %s CPUs", decimal2(s.CPUQuota))
	}
	b.WriteString(") GOMEMLIMIT=")
	if s.MemoryLimit == math.MaxInt64 {
		b.WriteString("off")
	} else {
		b.WriteString(formatBytes(s.MemoryLimit))
	}
	fmt.Fprintf(&b, " (%s)", s.MemLimitSource)
	if s.Warning != "" {
		b.WriteString(": ")
		b.WriteString(s.Warning)
	}
	return b.String()
}

// ApplyRuntime sizes the Go runtime for a cache of cacheBytes and returns
// what it found and did.
//
// GOMAXPROCS: left alone when the GOMAXPROCS environment variable is set,
// and left to the runtime when the runtime follows the cgroup CPU quota
// itself, which Go 1.25 and later do unless GODEBUG=containermaxprocs=0
// (calling runtime.GOMAXPROCS would stop the runtime's tracking of quota
// changes). Otherwise, under a quota, it is set to ceil(quota), at least 1
// and at most runtime.NumCPU().
//
// Memory limit: left alone when the GOMEMLIMIT environment variable is set
// or cacheBytes is not positive; otherwise set with debug.SetMemoryLimit to
// cacheBytes*(1+headroom) plus 64 MiB for the runtime and idle buffers. The
// cache is live heap for the life of the process, so under the default
// GOGC=100 the heap would grow to twice the cache before a collection; the
// limit makes the collector run earlier instead. If headroom is zero or
// negative, 0.25 is used.
//
// Call it once, early in main, before the event loops start.
func ApplyRuntime(cacheBytes int64, headroom float64) RuntimeSettings {
	h := systemHost()
	var s RuntimeSettings
	quota, hasQuota, _ := h.cpuQuota()
	if hasQuota {
		s.CPUQuota = quota
	}
	_, procsEnv := os.LookupEnv("GOMAXPROCS")
	cur := runtime.GOMAXPROCS(0)
	procs, src := planProcs(procsEnv, runtimeFollowsQuota(), quota, hasQuota, runtime.NumCPU(), cur)
	if procs != cur {
		runtime.GOMAXPROCS(procs)
		s.ProcsChanged = true
	}
	s.GOMAXPROCS, s.ProcsSource = procs, src

	_, memEnv := os.LookupEnv("GOMEMLIMIT")
	curLimit := debug.SetMemoryLimit(-1)
	limit, msrc := planMemLimit(memEnv, curLimit, cacheBytes, headroom)
	if limit != curLimit {
		debug.SetMemoryLimit(limit)
		s.MemLimitChanged = true
	}
	s.MemoryLimit, s.MemLimitSource = limit, msrc

	if cg, ok := h.memoryLimit(); ok {
		s.CgroupMemory = cg
		if limit != math.MaxInt64 && limit > cg {
			s.Warning = fmt.Sprintf("memory limit %s is above the cgroup memory limit %s: shrink the cache",
				formatBytes(limit), formatBytes(cg))
		}
	}
	return s
}

// planProcs decides GOMAXPROCS; see ApplyRuntime.
func planProcs(envSet, runtimeFollows bool, quota float64, hasQuota bool, ncpu, current int) (int, string) {
	switch {
	case envSet:
		return current, SourceEnv
	case runtimeFollows || !hasQuota:
		return current, SourceRuntime
	}
	n := int(math.Ceil(quota))
	n = max(n, 1)
	n = min(n, max(ncpu, 1))
	return n, SourceCgroup
}

// planMemLimit decides the soft memory limit; see ApplyRuntime.
func planMemLimit(envSet bool, current, cacheBytes int64, headroom float64) (int64, string) {
	switch {
	case envSet:
		return current, SourceEnv
	case cacheBytes <= 0:
		return current, SourceRuntime
	}
	if headroom <= 0 {
		headroom = defaultHeadroom
	}
	f := float64(cacheBytes)*(1+headroom) + memLimitBase
	if f >= math.MaxInt64 {
		return math.MaxInt64, SourceCache
	}
	return int64(f), SourceCache
}

// runtimeFollowsQuota reports whether the runtime sets GOMAXPROCS from the
// cgroup CPU quota: GODEBUG containermaxprocs, whose default is 1 for a main
// module declaring go 1.25 or later. The environment overrides the default
// recorded in the binary (go.mod's go line and //go:debug directives).
func runtimeFollowsQuota() bool {
	def := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, kv := range bi.Settings {
			if kv.Key == "DefaultGODEBUG" {
				def = kv.Value
			}
		}
	}
	return godebugValue(os.Getenv("GODEBUG"), def, "containermaxprocs") != "0"
}

// godebugValue returns key's value in the GODEBUG environment string env,
// else in the binary's default def, else "". Within one string the last
// setting wins, as in the runtime.
func godebugValue(env, def, key string) string {
	for _, s := range []string{env, def} {
		v, found := "", false
		for _, kv := range strings.Split(s, ",") {
			k, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if ok && k == key {
				v, found = val, true
			}
		}
		if found {
			return v
		}
	}
	return ""
}

// formatBytes prints n in the largest binary unit that keeps it at or
// above 1, with up to two decimals: 1.25GiB, 64MiB.
func formatBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%s%s", decimal2(f), units[i])
}
