package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// tunnelResult is the JSON line bench/tunnel prints.
type tunnelResult struct {
	Bytes   float64 `json:"bytes"`
	Seconds float64 `json:"seconds"`
	MiBps   float64 `json:"mib_per_s"`
}

// runTunnel moves h.cfg.tunnelBytes through s (CONNECT) or straight to
// the source for the direct product.
func (h *harness) runTunnel(s *server, r *runResult, rawPath string, until time.Time) {
	argv := []string{filepath.Join(h.cfg.toolDir, "tunnel"), "-target", s.source,
		"-bytes", strconv.FormatInt(h.cfg.tunnelBytes, 10)}
	if s.proxied {
		argv = append(argv, "-proxy", s.addr)
	}
	cpu0 := snapshotCPU(s.pgids())
	var res []tunnelResult
	for {
		p, err := start("tunnel", argv, startOpts{cpus: h.loadCPUs, logTo: rawPath})
		if err != nil {
			r.fail("%v", err)
			return
		}
		select {
		case <-p.done:
		case <-time.After(150 * time.Second):
			p.stop(2 * time.Second)
			r.fail("tunnel transfer did not finish in 150s")
			return
		}
		procs.remove(p)
		if p.err != nil {
			b, _ := os.ReadFile(rawPath)
			r.fail("tunnel: %v: %s", p.err, lastLine(string(b)))
			return
		}
		b, _ := os.ReadFile(rawPath)
		var t tunnelResult
		if err := json.Unmarshal([]byte(lastLine(string(b))), &t); err != nil {
			r.fail("tunnel output: %v", err)
			return
		}
		res = append(res, t)
		if time.Now().After(until) {
			break
		}
	}
	cpu1 := snapshotCPU(s.pgids())
	r.PeakRSSKiB = memKiB(s.pgids(), "VmHWM")
	r.MiBps = res[0].MiBps
	r.CPUSeconds = cpuSecondsSince(cpu0, cpu1)
	var total float64
	for _, t := range res {
		total += t.Bytes
	}
	r.CPUPer100k = r.CPUSeconds / (total / (1 << 30))
}

// runIdle opens the idle connections and reads the server's memory.
func (h *harness) runIdle(sc scenario, s *server, r *runResult, rawPath string) {
	u := objURL(s, "1k", "idle")
	if s.proxied {
		if code, _, err := fetch(s, u, 10*time.Second); err != nil || code != http.StatusOK {
			r.fail("warm-up GET %s: status %d, %v", u, code, err)
			return
		}
	}
	time.Sleep(time.Second)
	r.RSSBeforeKiB = memKiB(s.pgids(), "VmRSS")
	argv := []string{filepath.Join(h.cfg.toolDir, "idle"), "-target", s.addr, "-url", u, "-n", strconv.Itoa(h.cfg.idleConns)}
	if !s.proxied {
		argv = append(argv, "-direct")
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		r.fail("%v", err)
		return
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		r.fail("%v", err)
		return
	}
	logf, _ := os.Create(rawPath)
	defer logf.Close()
	p, err := start("idle", argv, startOpts{cpus: h.loadCPUs, stdout: pw, stdin: inR, logTo: rawPath + ".stderr"})
	pw.Close()
	inR.Close()
	if err != nil {
		r.fail("%v", err)
		return
	}
	defer func() {
		inW.Close()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
		}
		p.stop(2 * time.Second)
		pr.Close()
	}()
	lines := make(chan string, 4)
	go func() {
		scan := bufio.NewScanner(pr)
		for scan.Scan() {
			fmt.Fprintln(logf, scan.Text())
			lines <- scan.Text()
		}
		close(lines)
	}()
	var ok, bad int64
	select {
	case l, more := <-lines:
		if !more || sscan(l, "ready", &ok, &bad) != nil {
			b, _ := os.ReadFile(rawPath + ".stderr")
			r.fail("idle tool: no ready line (%q): %s", l, lastLine(string(b)))
			return
		}
	case <-time.After(180 * time.Second):
		r.fail("idle tool: connections not open after 180s")
		return
	}
	r.IdleConns = ok
	time.Sleep(2 * time.Second)
	r.RSSAfterKiB = memKiB(s.pgids(), "VmRSS")
	r.PeakRSSKiB = memKiB(s.pgids(), "VmHWM")
	if ok > 0 {
		r.IdleKiBPerConn = float64(r.RSSAfterKiB-r.RSSBeforeKiB) / float64(ok)
	}
	fmt.Fprintln(inW, "check")
	var alive, dead int64
	select {
	case l, more := <-lines:
		if !more || sscan(l, "alive", &alive, &dead) != nil {
			r.fail("idle tool: no alive line (%q)", l)
			return
		}
	case <-time.After(120 * time.Second):
		r.fail("idle tool: check did not finish in 120s")
		return
	}
	r.IdleAlive = alive
	want := int64(h.cfg.idleConns)
	if bad > 0 {
		b, _ := os.ReadFile(rawPath + ".stderr")
		r.fail("%d of %d connections failed to open (%s)", bad, want, lastLine(string(b)))
	}
	if alive < ok {
		r.fail("%d of %d idle connections were dropped by the server", ok-alive, ok)
	}
}

// sscan reads "<word> <a> <b>".
func sscan(line, word string, a, b *int64) error {
	var w string
	if _, err := fmt.Sscan(line, &w, a, b); err != nil {
		return err
	}
	if w != word {
		return fmt.Errorf("got %q, want %q", w, word)
	}
	return nil
}
