package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// results is results.json.
type results struct {
	Started   time.Time         `json:"started"`
	Finished  time.Time         `json:"finished"`
	Host      map[string]string `json:"host"`
	Config    map[string]any    `json:"config"`
	Skipped   map[string]string `json:"skipped"`
	NotApplic []naEntry         `json:"not_applicable"`
	Notes     []string          `json:"notes"`
	Runs      []*runResult      `json:"runs"`
	Summary   []*summaryRow     `json:"summary"`
	Targets   []*target         `json:"targets"`
}

type naEntry struct {
	Scenario string `json:"scenario"`
	Product  string `json:"product"`
	Why      string `json:"why"`
}

// summaryRow is one product in one scenario, over its rounds.
type summaryRow struct {
	Scenario     string  `json:"scenario"`
	Product      string  `json:"product"`
	OK           int     `json:"ok_runs"`
	Total        int     `json:"runs"`
	RPS          float64 `json:"rps"`
	P50          float64 `json:"p50_ms"`
	P99          float64 `json:"p99_ms"`
	P999         float64 `json:"p999_ms"`
	CPUPer100k   float64 `json:"cpu_s_per_100k"`
	PeakRSSKiB   int64   `json:"peak_rss_kib"`
	HitRatio     float64 `json:"hit_ratio"`
	MiBps        float64 `json:"mib_per_s"`
	IdleKiB      float64 `json:"idle_kib_per_conn"`
	VsDirect     float64 `json:"ratio_vs_direct"`     // median within-round ratio to direct
	EdgeOverThis float64 `json:"edgeproxy_over_this"` // median within-round edgeproxy/this
	// ForeignServerPct and ForeignLoadPct: the median share of the
	// server's and the load's CPUs that other processes took.
	ForeignServerPct float64 `json:"foreign_server_cpu_pct"`
	ForeignLoadPct   float64 `json:"foreign_load_cpu_pct"`
	// LoadBusyPct and ServerBusyPct: the median share of the load's and
	// the server's CPUs that was busy in all (runResult).
	LoadBusyPct   float64  `json:"load_cpu_busy_pct"`
	ServerBusyPct float64  `json:"server_cpu_busy_pct"`
	Failures      []string `json:"failures,omitempty"`
}

// jsonFloat keeps NaN out of JSON (encoding/json rejects it).
func jsonFloat(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

func (h *harness) summarize() []*summaryRow {
	var rows []*summaryRow
	for _, name := range h.cfg.scenarios {
		sc, _ := scenarioByName(name)
		primary := metricRPS
		switch sc.kind {
		case "tunnel":
			primary = metricMiBps
		case "idle":
			primary = metricIdleKiB
		}
		for _, p := range h.products {
			row := &summaryRow{Scenario: name, Product: p.name}
			for _, r := range h.runs {
				if r.Scenario != name || r.Product != p.name || r.Rep == 0 {
					continue
				}
				row.Total++
				if r.Status == statusOK {
					row.OK++
					row.PeakRSSKiB = max(row.PeakRSSKiB, r.PeakRSSKiB)
				} else {
					f := fmt.Sprintf("round %d: %s", r.Rep, r.Reason)
					if r.RPS > 0 {
						f += fmt.Sprintf(" (measured %.0f req/s, p99 %.2f ms; not counted)", r.RPS, r.P99)
					}
					row.Failures = append(row.Failures, f)
				}
			}
			if row.Total == 0 {
				continue
			}
			row.RPS = medianOf(h.runs, name, p.name, metricRPS)
			row.P50 = medianOf(h.runs, name, p.name, func(r *runResult) float64 { return r.P50 })
			row.P99 = medianOf(h.runs, name, p.name, metricP99)
			row.P999 = medianOf(h.runs, name, p.name, func(r *runResult) float64 { return r.P999 })
			row.CPUPer100k = medianOf(h.runs, name, p.name, metricCPU)
			row.HitRatio = medianOf(h.runs, name, p.name, func(r *runResult) float64 { return r.HitRatio })
			row.MiBps = medianOf(h.runs, name, p.name, metricMiBps)
			row.IdleKiB = medianOf(h.runs, name, p.name, metricIdleKiB)
			row.ForeignServerPct = medianOf(h.runs, name, p.name, metricForeignServer)
			row.ForeignLoadPct = medianOf(h.runs, name, p.name, metricForeignLoad)
			row.LoadBusyPct = medianOf(h.runs, name, p.name, metricLoadBusy)
			row.ServerBusyPct = medianOf(h.runs, name, p.name, metricServerBusy)
			row.VsDirect = math.NaN()
			if p.name != "direct" {
				row.VsDirect = roundRatio(h.runs, name, p.name, "direct", primary)
			}
			row.EdgeOverThis = math.NaN()
			if p.name != "edgeproxy" {
				row.EdgeOverThis = roundRatio(h.runs, name, "edgeproxy", p.name, primary)
			}
			rows = append(rows, row)
		}
	}
	return rows
}

func (h *harness) notApplicableList() []naEntry {
	var out []naEntry
	for _, name := range h.cfg.scenarios {
		sc, _ := scenarioByName(name)
		for _, p := range h.products {
			if why := notApplicable(p, sc); why != "" {
				out = append(out, naEntry{name, p.name, why})
			}
		}
	}
	return out
}

func hostInfo() map[string]string {
	m := map[string]string{
		"go":   runtime.Version(),
		"cpus": fmt.Sprint(runtime.NumCPU()),
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m["kernel"] = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				m["cpu"] = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	versions := map[string][]string{
		"wrk":           {"wrk", "-v"},
		"squid":         {"squid", "-v"},
		"nginx":         {"nginx", "-v"},
		"varnish":       {"varnishd", "-V"},
		"trafficserver": {"traffic_server", "--version"},
		"tinyproxy":     {"tinyproxy", "-v"},
	}
	for k, argv := range versions {
		out, _ := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if l := firstLineWith(string(out), []string{"version", "Version", "wrk ", "tinyproxy", "Traffic Server"}); l != "" {
			m[k] = l
		}
	}
	return m
}

func firstLineWith(s string, keys []string) string {
	for _, l := range strings.Split(s, "\n") {
		for _, k := range keys {
			if strings.Contains(l, k) {
				return strings.TrimSpace(l)
			}
		}
	}
	return ""
}

func (h *harness) writeJSON(targets []*target) error {
	res := results{
		Started: h.started, Finished: time.Now(), Host: hostInfo(),
		Config: map[string]any{
			"scenarios": h.cfg.scenarios, "products": h.cfg.products, "duration_s": h.cfg.duration.Seconds(),
			"rounds": h.cfg.reps, "idle_conns": h.cfg.idleConns, "cache_mib": h.cfg.cacheMiB,
			"tunnel_bytes": h.cfg.tunnelBytes, "load_cpus": h.loadCPUs, "server_cpus": h.serverCPUs,
			"wrk_timeout": h.cfg.wrkTimeout, "open_files": h.maxFiles, "nice": h.cfg.nice,
			"max_foreign_pct": h.cfg.maxForeign, "tries": h.cfg.tries,
			"edgeproxy": h.cfg.edgeproxy, "edgeproxy_version": binaryVersion(h.cfg.edgeproxy),
		},
		Skipped: h.skipped, NotApplic: h.notApplicableList(), Notes: h.notes,
		Runs: h.runs, Summary: h.summarize(), Targets: targets,
	}
	if h.cfg.edgeproxyBase != "" {
		res.Config["edgeproxy_base"] = h.cfg.edgeproxyBase
		res.Config["edgeproxy_base_version"] = binaryVersion(h.cfg.edgeproxyBase)
	}
	if h.base != nil {
		res.Config["base_rev"], res.Config["base_commit"] = h.base.rev, h.base.commit
	}
	for _, r := range res.Summary {
		for _, f := range []*float64{&r.RPS, &r.P50, &r.P99, &r.P999, &r.CPUPer100k, &r.HitRatio, &r.MiBps, &r.IdleKiB, &r.VsDirect, &r.EdgeOverThis, &r.ForeignServerPct, &r.ForeignLoadPct, &r.LoadBusyPct, &r.ServerBusyPct} {
			*f = jsonFloat(*f)
		}
	}
	for _, t := range targets {
		t.Value = jsonFloat(t.Value)
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(h.outDir, "results.json"), b, 0o644)
}

// Formatting helpers: "—" for a figure that does not exist.
func fnum(v float64, format string) string {
	if math.IsNaN(v) || v == 0 {
		return "—"
	}
	return fmt.Sprintf(format, v)
}

func fratio(v float64) string {
	if math.IsNaN(v) || v == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", v)
}

func frps(v float64) string {
	switch {
	case math.IsNaN(v) || v == 0:
		return "—"
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func (h *harness) writeReport(targets []*target) error {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	host := hostInfo()
	w("# edgeproxy load test — %s\n\n", h.started.Format("2006-01-02 15:04"))
	w("Host: %s CPUs (%s), kernel %s, %s. Load (wrk, tools, backing origin) on CPUs `%s`, server under test on CPUs `%s`.\n",
		host["cpus"], host["cpu"], host["kernel"], host["go"], orAll(h.loadCPUs), orAll(h.serverCPUs))
	w("edgeproxy: `%s` (%s)", h.cfg.edgeproxy, orUnknown(binaryVersion(h.cfg.edgeproxy)))
	if h.cfg.edgeproxyBase != "" {
		w("; edgeproxy-base:%s, `%s` (%s)", h.baseDesc(), h.cfg.edgeproxyBase, orUnknown(binaryVersion(h.cfg.edgeproxyBase)))
	}
	w(".\n")
	w("Each scenario: %d round(s) × %s measured per product, products interleaved within a round; common cache size %d MiB; wrk timeout %s",
		h.cfg.reps, h.cfg.duration, h.cfg.cacheMiB, h.cfg.wrkTimeout)
	if h.cfg.nice != 0 {
		w("; every process of the run at niceness %d", h.cfg.nice)
	}
	if h.cfg.maxForeign > 0 {
		w("; a load run in which other processes took more than %.0f%% of the server's or the load's CPUs was made again, up to %d attempts, keeping the least disturbed (see the caveats)", h.cfg.maxForeign, h.cfg.tries)
	}
	w(".\n\n")
	w("Figures are medians over the successful rounds. Ratios (`vs direct`, `edgeproxy ÷ this`) are medians of within-round ratios. ")
	w("CPU is the server's own utime+stime (all its processes) per 100,000 requests (per GiB for the tunnel). ")
	w("`load/server CPU busy %%` is how busy the load generator's and the server's CPUs were in all during the measured run (every /proc/stat tick but idle and iowait, irq and softirq included, whoever spent it); a load side near 100%% caps the requests/s any server can show here. ")
	w("A run with socket errors, non-2xx/3xx responses or a failed hit check is FAILED and left out of every figure.\n\n")

	if len(h.skipped) > 0 {
		w("## Not run\n\n")
		var ks []string
		for k := range h.skipped {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			w("- **%s**: %s\n", k, h.skipped[k])
		}
		w("\n")
	}

	w("## Targets\n\n")
	if h.skipped["edgeproxy"] != "" || !contains(h.cfg.products, "edgeproxy") {
		w("edgeproxy did not run, so no target is evaluated; the last column gives what it will need.\n\n")
	}
	w("| scenario | target | measured | verdict | reference |\n|---|---|---|---|---|\n")
	for _, t := range targets {
		if t.Issue != 0 {
			continue
		}
		measured := "—"
		if !math.IsNaN(t.Value) && t.Status != "n/a" {
			if t.Unit == "×" {
				measured = fmt.Sprintf("%.2f×", t.Value)
				if t.Against != "" {
					measured += " " + t.Against
				}
			} else {
				measured = fmt.Sprintf("%.2f %s", t.Value, t.Unit)
			}
		}
		w("| %s | %s | %s | %s | %s |\n", t.Scenario, t.What, measured, t.verdict(), t.Note)
	}
	var capped []*target
	for _, t := range targets {
		if t.Issue == 0 && t.LoadCap != "" {
			capped = append(capped, t)
		}
	}
	if len(capped) > 0 {
		w("\n")
		writeLoadCaps(w, capped)
	}
	profiles, _ := filepath.Glob(filepath.Join(h.outDir, "*.pprof"))
	if len(profiles) > 0 {
		w("\nProfiles of edgeproxy during scenarios with a missed target (extra run, not in the figures): ")
		for i, p := range profiles {
			if i > 0 {
				w(", ")
			}
			w("[`%s`](%s)", filepath.Base(p), filepath.Base(p))
		}
		w(". Read with `go tool pprof -top bin/edgeproxy FILE`.\n")
	}
	w("\n")
	h.writeIssue12(w, targets)

	if _, err := os.Stat(filepath.Join(h.outDir, "chart.png")); err == nil {
		w("![requests/s and p99 by product and scenario](chart.png)\n\n")
	}

	rows := h.summarize()
	for _, name := range h.cfg.scenarios {
		sc, _ := scenarioByName(name)
		w("## %s\n\n%s.\n\n", name, sc.desc)
		switch sc.kind {
		case "tunnel":
			w("| product | runs ok | MiB/s | vs direct | edgeproxy ÷ this | CPU-s/GiB | peak RSS MiB |\n|---|---|---|---|---|---|---|\n")
		case "idle":
			w("| product | runs ok | KiB/conn | conns held | RSS before → after MiB | edgeproxy ÷ this |\n|---|---|---|---|---|---|\n")
		default:
			w("| product | runs ok | req/s | p50 ms | p99 ms | p99.9 ms | CPU-s/100k | peak RSS MiB | vs direct | edgeproxy ÷ this | others' CPU %% server/load | load/server CPU busy %% |")
			if sc.kind == "zipf" {
				w(" hit ratio |")
			}
			w("\n|---|---|---|---|---|---|---|---|---|---|---|---|")
			if sc.kind == "zipf" {
				w("---|")
			}
			w("\n")
		}
		var fails, notes []string
		for _, r := range rows {
			if r.Scenario != name {
				continue
			}
			ok := fmt.Sprintf("%d/%d", r.OK, r.Total)
			rss := fnum(float64(r.PeakRSSKiB)/1024, "%.0f")
			switch sc.kind {
			case "tunnel":
				w("| %s | %s | %s | %s | %s | %s | %s |\n", r.Product, ok, fnum(r.MiBps, "%.0f"), fratio(r.VsDirect), fratio(r.EdgeOverThis), fnum(r.CPUPer100k, "%.2f"), rss)
			case "idle":
				var before, after, held []float64
				for _, x := range okRuns(h.runs, name, r.Product) {
					before = append(before, float64(x.RSSBeforeKiB)/1024)
					after = append(after, float64(x.RSSAfterKiB)/1024)
					held = append(held, float64(x.IdleConns))
				}
				w("| %s | %s | %s | %s | %s → %s | %s |\n", r.Product, ok, fnum(r.IdleKiB, "%.2f"), fnum(median(held), "%.0f"),
					fnum(median(before), "%.0f"), fnum(median(after), "%.0f"), fratio(r.EdgeOverThis))
			default:
				w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.0f / %.0f | %s |", r.Product, ok, frps(r.RPS), fnum(r.P50, "%.2f"), fnum(r.P99, "%.2f"),
					fnum(r.P999, "%.2f"), fnum(r.CPUPer100k, "%.2f"), rss, fratio(r.VsDirect), fratio(r.EdgeOverThis),
					zeroNaN(r.ForeignServerPct), zeroNaN(r.ForeignLoadPct), busyCell(r.LoadBusyPct, r.ServerBusyPct))
				if sc.kind == "zipf" {
					w(" %s |", fnum(r.HitRatio*100, "%.1f%%"))
				}
				w("\n")
			}
			for _, f := range r.Failures {
				fails = append(fails, fmt.Sprintf("- %s %s", r.Product, f))
			}
			for _, x := range h.runs {
				if x.Scenario == name && x.Product == r.Product && x.Status == statusOK && x.Note != "" && x.Rep > 0 {
					notes = append(notes, fmt.Sprintf("- %s round %d: %s", r.Product, x.Rep, x.Note))
				}
			}
		}
		var na []string
		for _, e := range h.notApplicableList() {
			if e.Scenario == name {
				na = append(na, fmt.Sprintf("%s (%s)", e.Product, e.Why))
			}
		}
		if len(na) > 0 {
			w("\nNot applicable: %s.\n", strings.Join(na, "; "))
		}
		if len(notes) > 0 {
			w("\nCaveats:\n\n%s\n", strings.Join(notes, "\n"))
		}
		if len(fails) > 0 {
			w("\nFAILED runs (left out):\n\n%s\n", strings.Join(fails, "\n"))
		}
		w("\n")
	}

	if len(h.notes) > 0 {
		w("## Notes\n\n")
		for _, n := range h.notes {
			w("- %s\n", n)
		}
		w("\n")
	}
	w("Raw wrk/tool output: `raw/`; every run with its numbers: `results.json`; logs of failed runs: `logs/`.\n")
	return os.WriteFile(filepath.Join(h.outDir, "report.md"), []byte(b.String()), 0o644)
}

// busyCell renders the load and server CPUs' busy shares: "98 / 95", a
// dash for a share that was not measured.
func busyCell(load, server float64) string {
	return fnum(load, "%.0f") + " / " + fnum(server, "%.0f")
}

func zeroNaN(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

func orUnknown(s string) string {
	if s == "" {
		return "version unknown"
	}
	return s
}

func orAll(s string) string {
	if s == "" {
		return "all"
	}
	return s
}
