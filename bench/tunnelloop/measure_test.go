package main

// The measurement of design 1 (this command) against design 2 (edgeproxy's
// tunnels). It starts real processes and moves gigabytes over loopback, so
// it runs only when asked:
//
//	EDGEPROXY_TUNNEL_MEASURE=1 go test -run TestMeasure -v -timeout 20m ./bench/tunnelloop/
//
// Knobs (environment): EDGEPROXY_TUNNEL_REPS (3), EDGEPROXY_TUNNEL_FAST_MIB
// (1024), EDGEPROXY_TUNNEL_SLOW_MIB (256), EDGEPROXY_TUNNEL_SLOW_MBPS (50,
// decimal megabytes per second), EDGEPROXY_TUNNEL_IDLE (500).

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// product is one thing measured: the direct path, a tunnelloop variant, or
// edgeproxy.
type product struct {
	name string
	args []string // tunnelloop flags; nil for direct and edgeproxy
	kind string   // "direct", "loop", "edge"
}

var (
	pDirect   = product{"direct", nil, "direct"}
	pLoop1M   = product{"d1 close@1MiB", []string{"-watermark", "1MiB", "-overflow", "close"}, "loop"}
	pLoop16M  = product{"d1 close@16MiB", []string{"-watermark", "16MiB", "-overflow", "close"}, "loop"}
	pLoopGrow = product{"d1 grow", []string{"-overflow", "grow"}, "loop"}
	pEdge     = product{"d2 edgeproxy", nil, "edge"}
)

// running is a started process.
type running struct {
	cmd    *exec.Cmd
	addr   string
	errLog string
}

func (r *running) stop() {
	if r == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
}

func (r *running) pid() int { return r.cmd.Process.Pid }

type bench struct {
	t        *testing.T
	dir      string
	loopBin  string
	edgeBin  string
	source   string // byte source address
	srcPort  string
	procs    []*running
	loopArgs map[string][]string
}

// startProc starts bin; when firstLines > 0 it returns that many stdout
// lines (the tools print their addresses there).
func (b *bench) startProc(bin string, args []string, firstLines int) (*running, []string) {
	b.t.Helper()
	errLog := filepath.Join(b.dir, fmt.Sprintf("stderr-%d.log", len(b.procs)))
	ef, err := os.Create(errLog)
	if err != nil {
		b.t.Fatal(err)
	}
	defer ef.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stderr = ef
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	r := &running{cmd: cmd, errLog: errLog}
	b.procs = append(b.procs, r)
	var lines []string
	if firstLines > 0 {
		ch := make(chan []string, 1)
		go func() {
			sc := bufio.NewScanner(out)
			var ls []string
			for len(ls) < firstLines && sc.Scan() {
				ls = append(ls, sc.Text())
			}
			ch <- ls
			_, _ = io.Copy(io.Discard, out)
		}()
		select {
		case lines = <-ch:
		case <-time.After(10 * time.Second):
		}
		if len(lines) < firstLines {
			r.stop()
			b.t.Fatalf("%s: no address on stdout", bin)
		}
	} else {
		go func() { _, _ = io.Copy(io.Discard, out) }()
	}
	return r, lines
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitAccept(t *testing.T, addr string) {
	for i := 0; i < 500; i++ {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			_ = c.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never accepted", addr)
}

// startProxy starts a fresh proxy for one measurement.
func (b *bench) startProxy(p product) *running {
	switch p.kind {
	case "loop":
		r, lines := b.startProc(b.loopBin, append([]string{"-listen", "127.0.0.1:0"}, p.args...), 1)
		r.addr = lines[0]
		return r
	case "edge":
		cfg := filepath.Join(b.dir, "edgeproxy.yaml")
		body := fmt.Sprintf("admin: off\nlog: {path: \"off\"}\nacl: {allow_local_destinations: true}\ntunnel: {allowed_ports: [%s]}\n", b.srcPort)
		if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
			b.t.Fatal(err)
		}
		addr := freePort(b.t)
		r, _ := b.startProc(b.edgeBin, []string{"--config", cfg, "--listen", addr}, 0)
		r.addr = addr
		waitAccept(b.t, addr)
		return r
	}
	return nil
}

// procStatus reads kB fields of /proc/PID/status.
func procStatus(pid int, field string) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(line[len(field)+1:])
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return -1
}

// cpuSeconds is utime+stime of pid (clock ticks of 1/100 s).
func cpuSeconds(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / 100
}

func countFDs(pid int) int {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(ents)
}

// open dials the proxy (or the source when proxy is empty) and completes the
// CONNECT; what follows the 200 is the source's byte stream.
func openTunnel(proxy, target string) (net.Conn, *bufio.Reader, error) {
	dial := target
	if proxy != "" {
		dial = proxy
	}
	c, err := net.DialTimeout("tcp", dial, 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(c, 64<<10)
	if proxy == "" {
		return c, br, nil
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	status, err := br.ReadString('\n')
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("CONNECT: %w", err)
	}
	if !strings.Contains(status, " 200 ") {
		c.Close()
		return nil, nil, fmt.Errorf("CONNECT: %q", strings.TrimSpace(status))
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			c.Close()
			return nil, nil, err
		}
		if line == "\r\n" {
			break
		}
	}
	_ = c.SetDeadline(time.Time{})
	return c, br, nil
}

// transfer asks the source for n bytes and reads them, at most rate bytes
// per second when rate > 0. It returns the bytes received, the elapsed time
// from the request, and the error that ended it early, if any.
func transfer(c net.Conn, br *bufio.Reader, n int64, rate float64, deadline time.Duration) (int64, time.Duration, error) {
	_ = c.SetDeadline(time.Now().Add(deadline))
	start := time.Now()
	if _, err := fmt.Fprintf(c, "%d\n", n); err != nil {
		return 0, 0, err
	}
	size := 1 << 20
	if rate > 0 {
		size = 64 << 10
	}
	buf := make([]byte, size)
	var got int64
	for got < n {
		k, err := br.Read(buf)
		got += int64(k)
		if err != nil {
			if errors.Is(err, io.EOF) && got == n {
				break
			}
			return got, time.Since(start), err
		}
		if rate > 0 {
			if ahead := time.Duration(float64(got)/rate*1e9) - time.Since(start); ahead > 0 {
				time.Sleep(ahead)
			}
		}
	}
	return got, time.Since(start), nil
}

var tunnelLine = regexp.MustCompile(`tunnel target=\S+ reason=(\S+) to_client=(\d+) .*peak_client_buf=(\d+)`)

// lastTunnel returns the reason and peak client buffer of the last tunnel
// tunnelloop logged.
func lastTunnel(r *running) (string, int64) {
	raw, _ := os.ReadFile(r.errLog)
	m := tunnelLine.FindAllSubmatch(raw, -1)
	if len(m) == 0 {
		return "", -1
	}
	last := m[len(m)-1]
	peak, _ := strconv.ParseInt(string(last[3]), 10, 64)
	return string(last[1]), peak
}

// sample is one run of one product in one scenario.
type sample struct {
	ok       bool    // the whole transfer arrived
	mibps    float64 // throughput when ok
	gotMiB   float64 // received before the end
	hwmMiB   float64 // VmHWM at the end − VmRSS before the transfer
	peakMiB  float64 // tunnelloop: peak client OutboundBuffered
	cpuPerGi float64 // proxy CPU seconds per GiB moved
	reason   string
	kibPer   float64 // idle: RSS KiB per tunnel
	fdsPer   float64 // idle: fds per tunnel
	thrPer   float64 // idle: threads added per 100 tunnels
}

const mib = float64(1 << 20)

func (b *bench) runStream(p product, n int64, rate float64) sample {
	t := b.t
	var s sample
	proxy := ""
	var r *running
	if p.kind != "direct" {
		r = b.startProxy(p)
		defer r.stop()
		proxy = r.addr
	}
	c, br, err := openTunnel(proxy, b.source)
	if err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
	var rss0 int64
	var cpu0 float64
	if r != nil {
		rss0 = procStatus(r.pid(), "VmRSS")
		cpu0 = cpuSeconds(r.pid())
	}
	got, el, err := transfer(c, br, n, rate, 120*time.Second)
	c.Close()
	s.ok = err == nil && got == n
	s.gotMiB = float64(got) / mib
	if s.ok {
		s.mibps = float64(got) / mib / el.Seconds()
	} else {
		s.reason = fmt.Sprint(err)
	}
	if r != nil {
		s.hwmMiB = float64(procStatus(r.pid(), "VmHWM")-rss0) / 1024
		if got > 0 {
			s.cpuPerGi = (cpuSeconds(r.pid()) - cpu0) / (float64(got) / (1 << 30))
		}
		if p.kind == "loop" {
			time.Sleep(100 * time.Millisecond) // the close line
			reason, peak := lastTunnel(r)
			s.peakMiB = float64(peak) / mib
			if reason != "" {
				s.reason = reason
			}
		}
	}
	return s
}

func (b *bench) runIdle(p product, n int) sample {
	t := b.t
	r := b.startProxy(p)
	defer r.stop()
	// Warm up: a few tunnels opened and closed, so pools and first-use
	// allocations are not charged to the idle ones.
	for i := 0; i < 20; i++ {
		c, _, err := openTunnel(r.addr, b.source)
		if err != nil {
			t.Fatalf("%s warm-up: %v", p.name, err)
		}
		c.Close()
	}
	time.Sleep(500 * time.Millisecond)
	pid := r.pid()
	rss0, fd0, thr0 := procStatus(pid, "VmRSS"), countFDs(pid), procStatus(pid, "Threads")
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		c, _, err := openTunnel(r.addr, b.source)
		if err != nil {
			t.Fatalf("%s idle tunnel %d: %v", p.name, i, err)
		}
		conns = append(conns, c)
	}
	time.Sleep(time.Second)
	rss1, fd1, thr1 := procStatus(pid, "VmRSS"), countFDs(pid), procStatus(pid, "Threads")
	return sample{
		ok:     true,
		kibPer: float64(rss1-rss0) / float64(n),
		fdsPer: float64(fd1-fd0) / float64(n),
		thrPer: float64(thr1-thr0) * 100 / float64(n),
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func TestMeasure(t *testing.T) {
	if os.Getenv("EDGEPROXY_TUNNEL_MEASURE") != "1" {
		t.Skip("set EDGEPROXY_TUNNEL_MEASURE=1 to run the tunnel measurement")
	}
	reps := envInt("EDGEPROXY_TUNNEL_REPS", 3)
	fastN := int64(envInt("EDGEPROXY_TUNNEL_FAST_MIB", 1024)) << 20
	slowN := int64(envInt("EDGEPROXY_TUNNEL_SLOW_MIB", 256)) << 20
	slowRate := float64(envInt("EDGEPROXY_TUNNEL_SLOW_MBPS", 50)) * 1e6
	idleN := envInt("EDGEPROXY_TUNNEL_IDLE", 500)

	b := &bench{t: t, dir: t.TempDir()}
	t.Cleanup(func() {
		for _, r := range b.procs {
			r.stop()
		}
	})
	b.loopBin = filepath.Join(b.dir, "tunnelloop")
	b.edgeBin = filepath.Join(b.dir, "edgeproxy")
	originBin := filepath.Join(b.dir, "origin")
	for _, bb := range [][2]string{{b.loopBin, "edgeproxy/bench/tunnelloop"}, {b.edgeBin, "edgeproxy/cmd/edgeproxy"}, {originBin, "edgeproxy/bench/origin"}} {
		out, err := exec.Command("go", "build", "-o", bb[0], bb[1]).CombinedOutput()
		if err != nil {
			t.Fatalf("go build %s: %v\n%s", bb[1], err, out)
		}
	}
	_, lines := b.startProc(originBin, []string{"-listen", "127.0.0.1:0", "-source", "127.0.0.1:0"}, 2)
	b.source = strings.TrimPrefix(lines[1], "source ")
	_, b.srcPort, _ = net.SplitHostPort(b.source)

	streams := []product{pDirect, pLoop1M, pLoop16M, pLoopGrow, pEdge}
	slows := []product{pLoop1M, pLoop16M, pLoopGrow, pEdge}
	idles := []product{pLoop1M, pEdge}
	fast := map[string][]sample{}
	slow := map[string][]sample{}
	idle := map[string][]sample{}
	rot := func(ps []product, k int) []product {
		out := make([]product, len(ps))
		for i := range ps {
			out[i] = ps[(i+k)%len(ps)]
		}
		return out
	}
	for rep := 0; rep < reps; rep++ {
		for _, p := range rot(streams, rep) {
			s := b.runStream(p, fastN, 0)
			fast[p.name] = append(fast[p.name], s)
			t.Logf("rep %d fast %-15s ok=%v MiB/s=%.0f got=%.0fMiB peakbuf=%.1fMiB hwm+%.1fMiB cpu/GiB=%.2fs %s",
				rep+1, p.name, s.ok, s.mibps, s.gotMiB, s.peakMiB, s.hwmMiB, s.cpuPerGi, s.reason)
		}
		for _, p := range rot(slows, rep) {
			s := b.runStream(p, slowN, slowRate)
			slow[p.name] = append(slow[p.name], s)
			t.Logf("rep %d slow %-15s ok=%v got=%.0fMiB peakbuf=%.1fMiB hwm+%.1fMiB %s",
				rep+1, p.name, s.ok, s.gotMiB, s.peakMiB, s.hwmMiB, s.reason)
		}
		for _, p := range rot(idles, rep) {
			s := b.runIdle(p, idleN)
			idle[p.name] = append(idle[p.name], s)
			t.Logf("rep %d idle %-15s KiB/tunnel=%.1f fds/tunnel=%.2f threads/100=%.1f",
				rep+1, p.name, s.kibPer, s.fdsPer, s.thrPer)
		}
	}

	var out bytes.Buffer
	col := func(ss []sample, f func(sample) float64, onlyOK bool) []float64 {
		var xs []float64
		for _, s := range ss {
			if !onlyOK || s.ok {
				xs = append(xs, f(s))
			}
		}
		return xs
	}
	okCount := func(ss []sample) int { return len(col(ss, func(sample) float64 { return 0 }, true)) }
	direct := median(col(fast[pDirect.name], func(s sample) float64 { return s.mibps }, true))
	fmt.Fprintf(&out, "\nmedians of %d interleaved runs; fast = %d MiB, slow = %d MiB at %.0f MB/s, idle = %d tunnels\n\n",
		reps, fastN>>20, slowN>>20, slowRate/1e6, idleN)
	fmt.Fprintf(&out, "| fast reader | completed | MiB/s | vs direct | MiB before close | peak buffered MiB | proxy CPU s/GiB |\n|---|---|---|---|---|---|---|\n")
	for _, p := range streams {
		ss := fast[p.name]
		mbs := median(col(ss, func(s sample) float64 { return s.mibps }, true))
		fmt.Fprintf(&out, "| %s | %d/%d | %.0f | %.0f%% | %.0f | %.1f | %.2f |\n", p.name, okCount(ss), len(ss), mbs, 100*mbs/direct,
			median(col(ss, func(s sample) float64 { return s.gotMiB }, false)),
			median(col(ss, func(s sample) float64 { return s.peakMiB }, false)),
			median(col(ss, func(s sample) float64 { return s.cpuPerGi }, false)))
	}
	fmt.Fprintf(&out, "\n| slow reader | survived | MiB received | peak buffered MiB | VmHWM growth MiB |\n|---|---|---|---|---|\n")
	for _, p := range slows {
		ss := slow[p.name]
		fmt.Fprintf(&out, "| %s | %d/%d | %.0f | %.1f | %.1f |\n", p.name, okCount(ss), len(ss),
			median(col(ss, func(s sample) float64 { return s.gotMiB }, false)),
			median(col(ss, func(s sample) float64 { return s.peakMiB }, false)),
			median(col(ss, func(s sample) float64 { return s.hwmMiB }, false)))
	}
	fmt.Fprintf(&out, "\n| %d idle tunnels | RSS KiB/tunnel | fds/tunnel | threads per 100 tunnels |\n|---|---|---|---|\n", idleN)
	for _, p := range idles {
		ss := idle[p.name]
		fmt.Fprintf(&out, "| %s | %.1f | %.2f | %.1f |\n", p.name,
			median(col(ss, func(s sample) float64 { return s.kibPer }, false)),
			median(col(ss, func(s sample) float64 { return s.fdsPer }, false)),
			median(col(ss, func(s sample) float64 { return s.thrPer }, false)))
	}
	fmt.Print(out.String())
}
