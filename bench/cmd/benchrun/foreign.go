package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Other work on the machine (builds, tests) steals CPU from whichever side
// of a run it lands on, and no ratio can tell a slow product from a
// disturbed run. So each load run also measures it: the busy time of the
// server's CPUs less the server's own CPU time, and the busy time of the
// load CPUs less wrk's and the backing origin's, each as a share of those
// CPUs' capacity over the run (a few percent is the run's own kernel work
// in ksoftirqd). Steal time (a hypervisor's other guests)
// counts as busy: it is capacity the run did not get either.
//
// Beside it, each load run records how busy the load CPUs and the server
// CPUs were in all, irq and softirq included, whoever made them busy: a
// load side near 100% caps the requests/s any server can show on this
// machine, so a ratio between two servers is then the load side's, not
// theirs (issue 12).

// cpuBusy maps a CPU number to its busy ticks from /proc/stat: user, nice,
// system and steal. Idle and iowait are not busy; guest time is already
// inside user; irq and softirq are left out because the loopback traffic
// of the run itself is largely processed there, outside every process's
// own time. (What ksoftirqd does for the run still counts as foreign.)
type cpuBusy map[int]uint64

// cpuStat is one reading of /proc/stat's per-CPU lines (fields: user nice
// system idle iowait irq softirq steal guest guest_nice).
type cpuStat struct {
	// busy is what the foreign share subtracts our processes from (cpuBusy).
	busy cpuBusy
	// total is every busy tick, irq and softirq included: all but idle and
	// iowait. It is how busy a CPU was, whoever made it so.
	total cpuBusy
	// all is every tick up to steal (guest time is inside user): the
	// CPU's capacity over an interval.
	all cpuBusy
}

func readCPUStat() cpuStat {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuStat{}
	}
	return parseCPUStat(string(b))
}

// parseCPUStat reads the per-CPU lines ("cpu0 ...") of a /proc/stat text.
func parseCPUStat(s string) cpuStat {
	out := cpuStat{busy: make(cpuBusy), total: make(cpuBusy), all: make(cpuBusy)}
	for _, l := range strings.Split(s, "\n") {
		f := strings.Fields(l)
		if len(f) < 9 || !strings.HasPrefix(f[0], "cpu") || f[0] == "cpu" {
			continue
		}
		n, err := strconv.Atoi(f[0][3:])
		if err != nil {
			continue
		}
		var v [9]uint64
		for i := 1; i <= 8; i++ {
			v[i], _ = strconv.ParseUint(f[i], 10, 64)
		}
		const user, nice, system, idle, iowait, irq, softirq, steal = 1, 2, 3, 4, 5, 6, 7, 8
		out.busy[n] = v[user] + v[nice] + v[system] + v[steal]
		out.total[n] = out.busy[n] + v[irq] + v[softirq]
		out.all[n] = out.total[n] + v[idle] + v[iowait]
	}
	return out
}

// parseCPUList expands a taskset list ("0", "2-3", "0,2-3").
func parseCPUList(s string) []int {
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, found := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if found {
			if b, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out
}

// busySeconds is the busy time of cpus between two readings (every CPU
// when cpus is empty).
func busySeconds(before, after cpuBusy, cpus []int) float64 {
	if cpus == nil {
		for c := range after {
			cpus = append(cpus, c)
		}
	}
	var d uint64
	for _, c := range cpus {
		if after[c] >= before[c] {
			d += after[c] - before[c]
		}
	}
	return float64(d) / clockTicks
}

// foreignPct is the share, in percent, of ncpu CPUs' capacity over elapsed
// that went to processes other than ours (busy − ours), never below 0.
func foreignPct(busy, ours float64, ncpu int, elapsed time.Duration) float64 {
	capacity := float64(ncpu) * elapsed.Seconds()
	if capacity <= 0 {
		return 0
	}
	return max(0, (busy-ours)/capacity*100)
}

// busyPct is the share, in percent, of cpus' capacity between two
// readings that was busy in any way (cpuStat.total over cpuStat.all; every
// CPU when cpus is empty). A CPU missing from either reading is left out;
// 0 when the readings cover no time.
func busyPct(before, after cpuStat, cpus []int) float64 {
	if cpus == nil {
		for c := range after.all {
			cpus = append(cpus, c)
		}
	}
	var busy, all uint64
	for _, c := range cpus {
		b0, ok0 := before.all[c]
		b1, ok1 := after.all[c]
		if ok0 && ok1 && b1 >= b0 && after.total[c] >= before.total[c] {
			busy += after.total[c] - before.total[c]
			all += b1 - b0
		}
	}
	if all == 0 {
		return 0
	}
	return float64(busy) / float64(all) * 100
}

// foreignMeter measures one run's foreign CPU, and how busy the CPUs were
// in all, on the server's and the load generator's CPUs.
type foreignMeter struct {
	h      *harness
	t0     time.Time
	stat0  cpuStat
	origin cpuSnapshot
}

func (h *harness) startForeign() *foreignMeter {
	m := &foreignMeter{h: h, t0: time.Now(), stat0: readCPUStat()}
	if h.origin != nil {
		m.origin = snapshotCPU([]int{h.origin.pid})
	}
	return m
}

// finish records the shares in r; server is the server's own CPU seconds
// over the run, load the load tools' (wrk) CPU seconds.
func (m *foreignMeter) finish(r *runResult, server, load float64) {
	elapsed := time.Since(m.t0)
	stat1 := readCPUStat()
	busy0, busy1 := m.stat0.busy, stat1.busy
	if busy0 == nil || busy1 == nil {
		return
	}
	if m.h.origin != nil {
		load += cpuSecondsSince(m.origin, snapshotCPU([]int{m.h.origin.pid}))
	}
	if m.h.serverCPUs == "" { // not pinned: one pool of CPUs for everything
		r.ForeignServerPct = foreignPct(busySeconds(busy0, busy1, nil), server+load, len(busy1), elapsed)
		r.ForeignLoadPct = r.ForeignServerPct
		r.ServerBusyPct = busyPct(m.stat0, stat1, nil)
		r.LoadBusyPct = r.ServerBusyPct
		return
	}
	sc, lc := parseCPUList(m.h.serverCPUs), parseCPUList(m.h.loadCPUs)
	r.ForeignServerPct = foreignPct(busySeconds(busy0, busy1, sc), server, len(sc), elapsed)
	r.ForeignLoadPct = foreignPct(busySeconds(busy0, busy1, lc), load, len(lc), elapsed)
	r.ServerBusyPct = busyPct(m.stat0, stat1, sc)
	r.LoadBusyPct = busyPct(m.stat0, stat1, lc)
}

// foreignMax is the larger of a run's two foreign shares.
func (r *runResult) foreignMax() float64 { return max(r.ForeignServerPct, r.ForeignLoadPct) }

// disturbedBy reports whether r is a successful run in which other
// processes took more than pct percent of the server's or the load's CPUs
// (pct ≤ 0: never).
func (r *runResult) disturbedBy(pct float64) bool {
	return pct > 0 && r.Status == statusOK && r.foreignMax() > pct
}

// keepLeastDisturbed picks, of the attempts at one run, the successful one
// in which others took the least CPU, and notes every attempt's shares on
// it. A failed attempt is kept only when none succeeded; the first attempt
// is never repeated because it failed, so a failure is never retried away.
func keepLeastDisturbed(attempts []*runResult) *runResult {
	best := attempts[0]
	for _, a := range attempts[1:] {
		if a.Status == statusOK && (best.Status != statusOK || a.foreignMax() < best.foreignMax()) {
			best = a
		}
	}
	if len(attempts) > 1 {
		var shares []string
		for i, a := range attempts {
			mark := ""
			if a == best {
				mark = " (kept)"
			}
			if a.Status != statusOK {
				shares = append(shares, fmt.Sprintf("%d: FAILED%s", i+1, mark))
				continue
			}
			shares = append(shares, fmt.Sprintf("%d: %.0f%%/%.0f%%%s", i+1, a.ForeignServerPct, a.ForeignLoadPct, mark))
		}
		note := fmt.Sprintf("run %d times, others took too much CPU (server/load per attempt: %s)", len(attempts), strings.Join(shares, ", "))
		if best.Note != "" {
			note = best.Note + "; " + note
		}
		best.Note = note
		best.Attempts = len(attempts)
	}
	return best
}

// repeatDisturbed runs sc for p again, up to -tries attempts in all, while
// the attempts so far were disturbed beyond -max-foreign, and returns the
// least disturbed one.
func (h *harness) repeatDisturbed(sc scenario, p *product, r *runResult) *runResult {
	attempts := []*runResult{r}
	for a := 2; a <= h.cfg.tries && attempts[len(attempts)-1].disturbedBy(h.cfg.maxForeign) && r.Status == statusOK; a++ {
		h.logf("  disturbed (others took more than %.0f%% of a CPU set): attempt %d", h.cfg.maxForeign, a)
		x := h.runOne(sc, p, r.Rep, a, false)
		h.logf("round %d %-13s %-13s %s", r.Rep, sc.name, p.name, summaryLine(x))
		attempts = append(attempts, x)
		if !x.disturbedBy(h.cfg.maxForeign) && x.Status == statusOK {
			break
		}
	}
	return keepLeastDisturbed(attempts)
}
