package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// runWrk runs wrk against s on the load CPUs and parses its output, which
// is kept in rawPath.
func (h *harness) runWrk(s *server, conns int, dur time.Duration, script string, args []string, rawPath string) (wrkResult, error) {
	threads := min(h.loadCores, conns)
	argv := []string{"wrk", "-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns),
		"-d", strconv.Itoa(int(dur.Seconds())) + "s", "--latency", "--timeout", h.cfg.wrkTimeout,
		"-s", filepath.Join(h.cfg.benchDir, "wrk", script), "http://" + s.addr, "--"}
	argv = append(argv, args...)
	if !s.proxied {
		argv = append(argv, "direct")
	}
	f, err := os.Create(rawPath)
	if err != nil {
		return wrkResult{}, err
	}
	fmt.Fprintf(f, "# %s\n", strings.Join(argv, " "))
	f.Close()
	p, err := start("wrk", argv, startOpts{cpus: h.loadCPUs, logTo: rawPath})
	if err != nil {
		return wrkResult{}, err
	}
	select {
	case <-p.done:
	case <-time.After(dur + 60*time.Second):
		p.stop(2 * time.Second)
		return wrkResult{}, fmt.Errorf("wrk did not finish within %v", dur+60*time.Second)
	}
	procs.remove(p)
	out, err := os.ReadFile(rawPath)
	if err != nil {
		return wrkResult{}, err
	}
	if p.err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %v: %s", p.err, lastLine(string(out)))
	}
	wr, err := parseWrk(string(out))
	if ps := p.cmd.ProcessState; ps != nil {
		wr.CPUSeconds = (ps.UserTime() + ps.SystemTime()).Seconds()
	}
	return wr, err
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// runLoadScenario runs the wrk-driven scenarios (hit, pass, zipf).
func (h *harness) runLoadScenario(sc scenario, s *server, r *runResult, rawBase string) {
	var script, id string
	var args []string
	switch sc.kind {
	case "hit":
		script, id = "proxy.lua", "hit"
		args = []string{objURL(s, sc.size, id)}
	case "pass":
		script, id = "proxy.lua", "pass"
		args = []string{objURL(s, sc.size, id) + "?cc=no-store"}
	case "zipf":
		script = "zipf.lua"
		args = []string{"http://" + s.origin + "/obj/" + sc.size + "/", h.zipfFile, ""}
	}

	// Warm up: hits must be cached before the clock starts; pass and zipf
	// get their connections and (zipf) popular objects in place.
	switch sc.kind {
	case "hit", "pass":
		for i := 0; i < 3; i++ {
			code, n, err := fetch(s, args[0], 10*time.Second)
			if err != nil || code != http.StatusOK {
				r.fail("warm-up GET %s: status %d, %v", args[0], code, err)
				return
			}
			if want, _ := sizeBytes(sc.size); n != want {
				r.fail("warm-up GET %s: %d body bytes, want %d", args[0], n, want)
				return
			}
		}
	case "zipf":
		warm := max(2*time.Second, h.cfg.duration/2)
		args[2] = fmt.Sprintf("w%d", r.Rep)
		wr, err := h.runWrk(s, sc.conns, warm, script, args, rawBase+"-warm.txt")
		if err != nil {
			r.fail("zipf warm-up: %v", err)
			return
		}
		if why := wr.failure(); why != "" {
			r.fail("zipf warm-up: %s", why)
			return
		}
		args[2] = fmt.Sprintf("r%d", r.Rep)
	}

	before, err := originCount(h.originAddr)
	if err != nil {
		r.fail("origin stats: %v", err)
		return
	}
	cpu0 := snapshotCPU(s.pgids())
	fm := h.startForeign()
	wr, err := h.runWrk(s, sc.conns, h.cfg.duration, script, args, rawBase+".txt")
	cpu1 := snapshotCPU(s.pgids())
	fm.finish(r, cpuSecondsSince(cpu0, cpu1), wr.CPUSeconds)
	r.PeakRSSKiB = memKiB(s.pgids(), "VmHWM")
	if err != nil {
		r.fail("%v", err)
		return
	}
	after, err := originCount(h.originAddr)
	if err != nil {
		r.fail("origin stats: %v", err)
		return
	}
	r.Wrk = &wr
	r.Requests, r.RPS = wr.Requests, wr.RPS
	r.P50, r.P99, r.P999 = wr.P50, wr.P99, wr.P999
	r.CPUSeconds = cpuSecondsSince(cpu0, cpu1)
	if wr.Requests > 0 {
		r.CPUPer100k = r.CPUSeconds / float64(wr.Requests) * 1e5
	}
	if s.closesSilently && wr.ErrRead > 0 && wr.ErrRead <= wr.Requests+int64(sc.conns) {
		// The server closed after each response without "Connection:
		// close", so wrk's next request on that connection met EOF, counted
		// as a read error, and was re-sent on a new connection. One such
		// error per request is the server's protocol, not a fault; any
		// other error still fails the run.
		r.Note = fmt.Sprintf("%d read errors tolerated: the server closes every connection after one response without \"Connection: close\", and wrk re-sends on a new connection", wr.ErrRead)
		wr.ErrRead = 0
	}
	if why := wr.failure(); why != "" {
		r.fail("%s", why)
	}
	if !s.proxied {
		return
	}
	r.OriginDelta = after - before
	switch sc.kind {
	case "hit":
		if r.OriginDelta != 0 {
			r.fail("hit check: the origin served %d requests during the run (want 0)", r.OriginDelta)
		}
	case "pass":
		if r.OriginDelta < wr.Requests {
			r.fail("pass check: the origin saw %d requests for %d answered (no-store objects were served from cache)", r.OriginDelta, wr.Requests)
		}
	case "zipf":
		if wr.Requests > 0 {
			r.HitRatio = 1 - float64(r.OriginDelta)/float64(wr.Requests)
		}
	}
}

// sizeBytes converts a size class ("1k", "1m") to bytes.
func sizeBytes(class string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(class, "k"):
		mult, class = 1<<10, strings.TrimSuffix(class, "k")
	case strings.HasSuffix(class, "m"):
		mult, class = 1<<20, strings.TrimSuffix(class, "m")
	case strings.HasSuffix(class, "g"):
		mult, class = 1<<30, strings.TrimSuffix(class, "g")
	}
	n, err := strconv.ParseInt(class, 10, 64)
	return n * mult, err
}
