package main

import (
	"maps"
	"slices"
	"testing"
	"time"
)

// Issue 12: the load and server CPUs' busy shares count irq and softirq,
// the foreign share's busy ticks do not.
func TestParseCPUStat(t *testing.T) {
	//          user nice system idle iowait irq softirq steal guest guest_nice
	const stat = `cpu  300 10 200 5000 40 5 6 7 0 0
cpu0 100 0 50 2500 20 1 2 3 0 0
cpu1 200 10 150 2500 20 4 4 4 9 0
cpu2 1 2 3 4 5 6 7
intr 12345
ctxt 999
`
	got := parseCPUStat(stat)
	for _, tc := range []struct {
		name string
		m    cpuBusy
		want cpuBusy
	}{
		// user+nice+system+steal: cpu0 100+0+50+3; cpu1 200+10+150+4.
		{"busy", got.busy, cpuBusy{0: 153, 1: 364}},
		// + irq + softirq: cpu0 153+1+2; cpu1 364+4+4.
		{"total", got.total, cpuBusy{0: 156, 1: 372}},
		// + idle + iowait (guest is inside user): cpu0 156+2500+20; cpu1 372+2500+20.
		{"all", got.all, cpuBusy{0: 2676, 1: 2892}},
	} {
		if !maps.Equal(tc.m, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.m, tc.want)
		}
	}
}

func TestParseCPUList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
	}{{"1", []int{1}}, {"0-1", []int{0, 1}}, {"0,2-3", []int{0, 2, 3}}, {"", nil}} {
		if got := parseCPUList(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("parseCPUList(%q): got %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestForeignPct(t *testing.T) {
	before := cpuBusy{0: 1000, 1: 1000}
	after := cpuBusy{0: 1900, 1: 2000} // 9 s and 10 s busy over 10 s
	if got := busySeconds(before, after, []int{1}); got != 10 {
		t.Errorf("busySeconds cpu1: got %v, want 10", got)
	}
	if got := busySeconds(before, after, nil); got != 19 {
		t.Errorf("busySeconds all: got %v, want 19", got)
	}
	// The server used 8 of cpu1's 10 busy seconds: others took 20%.
	if got := foreignPct(10, 8, 1, 10*time.Second); !near(got, 20) {
		t.Errorf("foreignPct: got %v, want 20", got)
	}
	// Accounting skew never reports negative foreign time.
	if got := foreignPct(8, 8.5, 1, 10*time.Second); got != 0 {
		t.Errorf("foreignPct below zero: got %v, want 0", got)
	}
}

// Issue 12: how busy a CPU set was over a run, as a share of its capacity.
func TestBusyPct(t *testing.T) {
	before := cpuStat{total: cpuBusy{0: 100, 1: 100}, all: cpuBusy{0: 1000, 1: 1000}}
	after := cpuStat{total: cpuBusy{0: 1070, 1: 600}, all: cpuBusy{0: 2000, 1: 2000}}
	for _, tc := range []struct {
		name   string
		before cpuStat
		cpus   []int
		want   float64
	}{
		{"load cpu0", before, []int{0}, 97},
		{"server cpu1", before, []int{1}, 50},
		{"both", before, []int{0, 1}, 73.5},
		{"unpinned: every CPU", before, nil, 73.5},
		{"no first reading", cpuStat{}, []int{0}, 0},
		{"no time passed", after, []int{0}, 0},
	} {
		if got := busyPct(tc.before, after, tc.cpus); !near(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestKeepLeastDisturbed(t *testing.T) {
	at := func(status string, srv, load float64) *runResult {
		return &runResult{Scenario: "s", Product: "p", Rep: 1, Status: status, ForeignServerPct: srv, ForeignLoadPct: load}
	}
	for _, tc := range []struct {
		name     string
		attempts []*runResult
		keep     int
		note     string
	}{
		{"once", []*runResult{at(statusOK, 50, 50)}, 0, ""},
		{"the quietest", []*runResult{at(statusOK, 40, 10), at(statusOK, 5, 30), at(statusOK, 20, 2)},
			2, "run 3 times, others took too much CPU (server/load per attempt: 1: 40%/10%, 2: 5%/30%, 3: 20%/2% (kept))"},
		{"a failed retry is not kept", []*runResult{at(statusOK, 40, 40), at(statusFailed, 0, 0)},
			0, "run 2 times, others took too much CPU (server/load per attempt: 1: 40%/40% (kept), 2: FAILED)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := keepLeastDisturbed(tc.attempts)
			if got != tc.attempts[tc.keep] {
				t.Errorf("kept %+v, want attempt %d", got, tc.keep+1)
			}
			if got.Note != tc.note {
				t.Errorf("note: got %q, want %q", got.Note, tc.note)
			}
			if want := map[bool]int{true: len(tc.attempts), false: 0}[len(tc.attempts) > 1]; got.Attempts != want {
				t.Errorf("attempts: got %d, want %d", got.Attempts, want)
			}
		})
	}
}

func TestDisturbedBy(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    runResult
		pct  float64
		want bool
	}{
		{"off", runResult{Status: statusOK, ForeignServerPct: 90}, 0, false},
		{"server above", runResult{Status: statusOK, ForeignServerPct: 11}, 10, true},
		{"load above", runResult{Status: statusOK, ForeignLoadPct: 11}, 10, true},
		{"at the limit", runResult{Status: statusOK, ForeignServerPct: 10}, 10, false},
		{"failed runs are not repeated", runResult{Status: statusFailed, ForeignServerPct: 90}, 10, false},
	} {
		if got := tc.r.disturbedBy(tc.pct); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
