package tuning

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestPlanProcs(t *testing.T) {
	tests := []struct {
		name           string
		envSet, follow bool
		quota          float64
		hasQuota       bool
		ncpu, current  int
		want           int
		wantSource     string
	}{
		{"operator's env wins", true, false, 1.5, true, 8, 6, 6, SourceEnv},
		{"runtime follows the quota", false, true, 1.5, true, 8, 2, 2, SourceRuntime},
		{"no quota", false, false, 0, false, 8, 8, 8, SourceRuntime},
		{"quota rounded up", false, false, 2.5, true, 8, 8, 3, SourceCgroup},
		{"small quota gives at least 1", false, false, 0.2, true, 8, 8, 1, SourceCgroup},
		{"quota above the CPUs", false, false, 16, true, 4, 4, 4, SourceCgroup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, src := planProcs(tt.envSet, tt.follow, tt.quota, tt.hasQuota, tt.ncpu, tt.current)
			if got != tt.want || src != tt.wantSource {
				t.Errorf("got %d (%q), want %d (%q)", got, src, tt.want, tt.wantSource)
			}
		})
	}
}

func TestPlanMemLimit(t *testing.T) {
	const none = math.MaxInt64
	tests := []struct {
		name       string
		envSet     bool
		current    int64
		cache      int64
		headroom   float64
		want       int64
		wantSource string
	}{
		{"operator's env wins", true, 8 << 30, 1 << 30, 0.25, 8 << 30, SourceEnv},
		{"no cache, no limit", false, none, 0, 0.25, none, SourceRuntime},
		{"1 GiB cache, 25%", false, none, 1 << 30, 0.25, 1<<30 + 256<<20 + 64<<20, SourceCache},
		{"zero headroom means 25%", false, none, 1 << 30, 0, 1<<30 + 256<<20 + 64<<20, SourceCache},
		{"10 GiB cache, 10%", false, none, 10 << 30, 0.1, 11<<30 + 64<<20, SourceCache},
		{"overflow clamps", false, none, math.MaxInt64, 1, none, SourceCache},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, src := planMemLimit(tt.envSet, tt.current, tt.cache, tt.headroom)
			if got != tt.want || src != tt.wantSource {
				t.Errorf("got %d (%q), want %d (%q)", got, src, tt.want, tt.wantSource)
			}
		})
	}
}

func TestGodebugValue(t *testing.T) {
	tests := []struct {
		name, env, def, want string
	}{
		{"unset", "", "", ""},
		{"default from go.mod", "", "containermaxprocs=0,panicnil=1", "0"},
		{"env overrides default", "containermaxprocs=1", "containermaxprocs=0", "1"},
		{"last in env wins", "containermaxprocs=0,x=1,containermaxprocs=1", "", "1"},
		{"other keys ignored", "updatemaxprocs=0", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := godebugValue(tt.env, tt.def, "containermaxprocs"); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestGoRuntimeFollowsQuota records what Go 1.26 does on its own: with no
// GOMAXPROCS variable, GOMAXPROCS is min(CPUs, max(2, ceil(quota))), or the
// CPU count without a quota. (The runtime reads only the process's own
// cgroup; a quota set only on a parent is invisible to it.)
func TestGoRuntimeFollowsQuota(t *testing.T) {
	if _, set := os.LookupEnv("GOMAXPROCS"); set {
		t.Skip("GOMAXPROCS is set in the environment")
	}
	if !runtimeFollowsQuota() {
		t.Fatal("got containermaxprocs=0, want the Go 1.25+ default for a go 1.26 module")
	}
	want := runtime.NumCPU()
	if q, ok := CPUQuota(); ok {
		want = min(want, max(2, int(math.Ceil(q))))
	}
	if got := runtime.GOMAXPROCS(0); got != want {
		t.Errorf("got GOMAXPROCS %d, want %d", got, want)
	}
}

func TestApplyRuntime(t *testing.T) {
	if _, set := os.LookupEnv("GOMAXPROCS"); set {
		t.Skip("GOMAXPROCS is set in the environment")
	}
	prevLimit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prevLimit) })
	procs := runtime.GOMAXPROCS(0)

	t.Run("sets the memory limit, leaves GOMAXPROCS to the runtime", func(t *testing.T) {
		t.Setenv("GOMEMLIMIT", "")
		os.Unsetenv("GOMEMLIMIT")
		s := ApplyRuntime(1<<30, 0.25)
		want := int64(1<<30 + 256<<20 + 64<<20)
		if s.MemoryLimit != want || !s.MemLimitChanged || s.MemLimitSource != SourceCache {
			t.Errorf("got limit %d changed=%v (%q), want %d changed=true (%q)",
				s.MemoryLimit, s.MemLimitChanged, s.MemLimitSource, want, SourceCache)
		}
		if got := debug.SetMemoryLimit(-1); got != want {
			t.Errorf("runtime limit: got %d, want %d", got, want)
		}
		if s.GOMAXPROCS != procs || s.ProcsChanged || s.ProcsSource != SourceRuntime {
			t.Errorf("got GOMAXPROCS %d changed=%v (%q), want %d unchanged (%q)",
				s.GOMAXPROCS, s.ProcsChanged, s.ProcsSource, procs, SourceRuntime)
		}
		t.Log(s)
	})
	t.Run("GOMEMLIMIT in the environment wins", func(t *testing.T) {
		debug.SetMemoryLimit(prevLimit)
		t.Setenv("GOMEMLIMIT", "512MiB")
		s := ApplyRuntime(1<<30, 0.25)
		if s.MemLimitChanged || s.MemLimitSource != SourceEnv || s.MemoryLimit != prevLimit {
			t.Errorf("got limit %d changed=%v (%q), want %d unchanged (%q)",
				s.MemoryLimit, s.MemLimitChanged, s.MemLimitSource, prevLimit, SourceEnv)
		}
	})
}

func TestRuntimeSettingsString(t *testing.T) {
	tests := []struct {
		name string
		s    RuntimeSettings
		want string
	}{
		{"runtime defaults", RuntimeSettings{GOMAXPROCS: 8, ProcsSource: SourceRuntime, MemoryLimit: math.MaxInt64, MemLimitSource: SourceRuntime},
			"GOMAXPROCS=8 (go runtime) GOMEMLIMIT=off (go runtime)"},
		{"quota and cache", RuntimeSettings{GOMAXPROCS: 3, ProcsSource: SourceCgroup, CPUQuota: 2.5, MemoryLimit: 1<<30 + 256<<20 + 64<<20, MemLimitSource: SourceCache},
			"GOMAXPROCS=3 (cgroup quota, quota 2.5 CPUs) GOMEMLIMIT=1.31GiB (cache size)"},
		{"warning", RuntimeSettings{GOMAXPROCS: 2, ProcsSource: SourceEnv, MemoryLimit: 2 << 30, MemLimitSource: SourceCache, Warning: "too big"},
			"GOMAXPROCS=2 (environment) GOMEMLIMIT=2GiB (cache size): too big"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
