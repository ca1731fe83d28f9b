package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// writeChart draws chart.png with gnuplot (Debian: gnuplot-nox): median
// requests/s and p99 per product for the HTTP scenarios, tunnel MiB/s and
// idle KiB per connection. The data files and the script stay beside the
// PNG so the chart can be redrawn or restyled.
func (h *harness) writeChart() error {
	gp, err := exec.LookPath("gnuplot")
	if err != nil {
		return errors.New("gnuplot not installed (apt-get install gnuplot-nox): chart.png skipped")
	}
	var prods []string
	for _, p := range h.products {
		if h.skipped[p.name] == "" {
			prods = append(prods, p.name)
		}
	}
	if len(prods) == 0 {
		return errors.New("no product ran: chart.png skipped")
	}
	rows := h.summarize()
	value := func(sc, prod string, pick func(*summaryRow) float64) string {
		for _, r := range rows {
			if r.Scenario == sc && r.Product == prod && r.OK > 0 {
				if v := pick(r); !math.IsNaN(v) && v > 0 {
					return fmt.Sprintf("%g", v)
				}
			}
		}
		return "-"
	}
	// table writes one data file: a row per scenario, a column per product.
	table := func(file string, scs []string, pick func(*summaryRow) float64) (bool, error) {
		var b strings.Builder
		b.WriteString("scenario " + strings.Join(prods, " ") + "\n")
		any := false
		for _, sc := range scs {
			b.WriteString(sc)
			for _, p := range prods {
				v := value(sc, p, pick)
				any = any || v != "-"
				b.WriteString(" " + v)
			}
			b.WriteString("\n")
		}
		return any, os.WriteFile(filepath.Join(h.outDir, file), []byte(b.String()), 0o644)
	}
	var httpScs, tunScs, idleScs []string
	for _, name := range h.cfg.scenarios {
		sc, _ := scenarioByName(name)
		switch sc.kind {
		case "tunnel":
			tunScs = append(tunScs, name)
		case "idle":
			idleScs = append(idleScs, name)
		default:
			httpScs = append(httpScs, name)
		}
	}
	panels := []struct {
		file, title string
		scs         []string
		pick        func(*summaryRow) float64
		log         bool
	}{
		{"chart-rps.dat", "requests/s (median, log scale)", httpScs, func(r *summaryRow) float64 { return r.RPS }, true},
		{"chart-p99.dat", "p99 latency, ms (median, log scale; lower is better)", httpScs, func(r *summaryRow) float64 { return r.P99 }, true},
		{"chart-tunnel.dat", "CONNECT tunnel throughput, MiB/s", tunScs, func(r *summaryRow) float64 { return r.MiBps }, false},
		{"chart-idle.dat", "RSS per idle keep-alive connection, KiB (lower is better)", idleScs, func(r *summaryRow) float64 { return r.IdleKiB }, false},
	}
	has := make([]bool, len(panels))
	drawn := 0
	for i, p := range panels {
		var err error
		if has[i], err = table(p.file, p.scs, p.pick); err != nil {
			return err
		}
		if has[i] {
			drawn++
		}
	}
	if drawn == 0 {
		return errors.New("no successful run to chart: chart.png skipped")
	}
	layout, height := "2,2", 1100
	if drawn <= 2 {
		layout, height = "1,2", 600
	}
	var s strings.Builder
	fmt.Fprintf(&s, "set terminal pngcairo size 1600,%d font 'sans,10'\nset output '%s'\n", height, "chart.png")
	s.WriteString("set datafile missing '-'\nset style data histogram\nset style histogram cluster gap 1\n")
	s.WriteString("set style fill solid 0.85 border -1\nset boxwidth 0.9\nset grid ytics\nset key outside right top font ',9'\nset xtics nomirror\n")
	fmt.Fprintf(&s, "set multiplot layout %s title 'edgeproxy bench %s — %d round(s) × %s, server on CPUs %s'\n",
		layout, h.started.Format("2006-01-02 15:04"), h.cfg.reps, h.cfg.duration, orAll(h.serverCPUs))
	for i, p := range panels {
		if !has[i] {
			continue
		}
		fmt.Fprintf(&s, "set title '%s'\n", p.title)
		if p.log {
			s.WriteString("set logscale y\nset yrange [*:*]\n")
		} else {
			s.WriteString("unset logscale y\nset yrange [0:*]\n")
		}
		fmt.Fprintf(&s, "plot for [i=2:%d] '%s' using i:xtic(1) title columnheader(i)\n", len(prods)+1, p.file)
	}
	s.WriteString("unset multiplot\n")
	script := filepath.Join(h.outDir, "chart.gp")
	if err := os.WriteFile(script, []byte(s.String()), 0o644); err != nil {
		return err
	}
	cmd := exec.Command(gp, "chart.gp")
	cmd.Dir = h.outDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("gnuplot: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}
