package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// harness is one benchrun invocation.
type harness struct {
	cfg      config
	peersDir string
	runDir   string // temporary: rendered configs, logs, pid files
	shmDir   string // temporary tmpfs: caches
	outDir   string

	loadCPUs, serverCPUs   string // taskset lists; "" when not pinning
	loadCores, serverCores int
	maxFiles               int

	origin     *proc
	originAddr string // backing origin for every proxy
	sourceAddr string // its raw byte source
	zipfFile   string

	base *baseBuild // how edgeproxy-base was built (-base-rev), nil otherwise

	products []*product
	skipped  map[string]string // product → why it did not run at all
	runs     []*runResult
	notes    []string
	started  time.Time
	seq      int
}

func newHarness(cfg config) (*harness, error) {
	h := &harness{cfg: cfg, peersDir: filepath.Join(cfg.benchDir, "peers"), outDir: cfg.out,
		skipped: make(map[string]string), started: time.Now()}
	var err error
	if h.runDir, err = os.MkdirTemp("", "edgebench-"); err != nil {
		return nil, err
	}
	shmBase := "/dev/shm"
	if st, err := os.Stat(shmBase); err != nil || !st.IsDir() {
		shmBase = ""
	}
	if h.shmDir, err = os.MkdirTemp(shmBase, "edgebench-"); err != nil {
		return nil, err
	}
	os.Chmod(h.runDir, 0o777)
	os.Chmod(h.shmDir, 0o777)
	if err := os.MkdirAll(filepath.Join(h.outDir, "raw"), 0o755); err != nil {
		return nil, err
	}
	procs.pidFile = os.Getenv("BENCH_PIDFILE")

	// Raise the open-file limit to the hard limit, explicitly, so that the
	// servers and tools started from here inherit it (Go raises its own soft
	// limit but restores the original one in children unless told).
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil {
		rl.Cur = rl.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
		h.maxFiles = int(rl.Cur)
	}
	if need := cfg.idleConns + 1000; contains(cfg.scenarios, "idle-10k") && need > h.maxFiles {
		h.cfg.idleConns = h.maxFiles - 1000
		h.note(fmt.Sprintf("idle-10k: %d connections asked for, but the open-file limit is %d: holding %d", cfg.idleConns, h.maxFiles, h.cfg.idleConns))
	}

	ncpu := runtime.NumCPU()
	if ncpu >= 2 && !cfg.noPin {
		h.loadCPUs, h.serverCPUs = "0", "1"
		h.loadCores, h.serverCores = 1, 1
		if ncpu >= 4 {
			half := ncpu / 2
			h.loadCPUs = fmt.Sprintf("0-%d", half-1)
			h.serverCPUs = fmt.Sprintf("%d-%d", half, ncpu-1)
			h.loadCores, h.serverCores = half, ncpu-half
		}
	} else {
		h.loadCores, h.serverCores = ncpu, ncpu
		h.note(fmt.Sprintf("no CPU pinning (%d CPUs): load and servers share every CPU", ncpu))
	}

	byName := make(map[string]*product)
	for _, p := range products() {
		byName[p.name] = p
	}
	for _, n := range cfg.products {
		h.products = append(h.products, byName[n])
	}
	return h, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (h *harness) note(s string) {
	h.notes = append(h.notes, s)
	fmt.Fprintln(os.Stderr, "benchrun: note:", s)
}

func (h *harness) logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Since(h.started).Round(time.Second), fmt.Sprintf(format, a...))
}

// cleanup removes the temporary run directories (the results stay).
func (h *harness) cleanup() {
	if h.runDir != "" {
		os.RemoveAll(h.runDir)
	}
	if h.shmDir != "" {
		os.RemoveAll(h.shmDir)
	}
}

// run is the whole benchmark.
func (h *harness) run() error {
	for _, p := range h.products {
		if why := h.available(p); why != "" {
			h.skipped[p.name] = why
			h.logf("skip %s: %s", p.name, why)
		}
	}
	p, addrs, err := startWithAddr("origin",
		[]string{filepath.Join(h.cfg.toolDir, "origin"), "-listen", "127.0.0.1:0", "-source", "127.0.0.1:0"},
		startOpts{cpus: h.loadCPUs, logTo: filepath.Join(h.runDir, "origin.log")}, 2)
	if err != nil {
		return err
	}
	h.origin, h.originAddr, h.sourceAddr = p, addrs[0], strings.TrimPrefix(addrs[1], "source ")
	h.logf("origin %s, byte source %s; load on CPUs %q, servers on CPUs %q", h.originAddr, h.sourceAddr, h.loadCPUs, h.serverCPUs)

	if contains(h.cfg.scenarios, "zipf-mix") {
		h.zipfFile = filepath.Join(h.runDir, "zipf.txt")
		if err := writeSequence(h.zipfFile, zipfSequence(zipfRequests, zipfURLs, zipfS, zipfMissShare, 1)); err != nil {
			return err
		}
	}

	for rep := 1; rep <= h.cfg.reps; rep++ {
		for _, name := range h.cfg.scenarios {
			sc, _ := scenarioByName(name)
			// Rotate the product order each round so that no product always
			// runs right after the same neighbour.
			n := len(h.products)
			for i := 0; i < n; i++ {
				p := h.products[(i+rep-1)%n]
				if _, skip := h.skipped[p.name]; skip || notApplicable(p, sc) != "" {
					continue
				}
				r := h.runOne(sc, p, rep, 1, false)
				h.logf("round %d %-13s %-13s %s", rep, sc.name, p.name, summaryLine(r))
				r = h.repeatDisturbed(sc, p, r)
				h.runs = append(h.runs, r)
			}
		}
		if err := h.writeJSON(nil); err != nil {
			return err
		}
	}

	targets := append(computeTargets(h.runs, h.cfg.scenarios), issue12Targets(h.runs, h.cfg.scenarios)...)
	if h.cfg.profile {
		h.profileMissed(targets)
	}
	if err := h.writeJSON(targets); err != nil {
		return err
	}
	if err := h.writeChart(); err != nil {
		h.note("chart: " + err.Error())
	}
	if err := h.writeReport(targets); err != nil {
		return err
	}
	h.logf("results in %s", h.outDir)
	return nil
}

// Zipf workload parameters.
const (
	zipfURLs      = 100000
	zipfS         = 1.0
	zipfMissShare = 0.10
	zipfRequests  = 500000 // the sequence each wrk thread walks (and wraps)
)

func summaryLine(r *runResult) string {
	if r.Status != statusOK {
		return "FAILED: " + r.Reason
	}
	switch {
	case r.MiBps > 0:
		return fmt.Sprintf("%.0f MiB/s", r.MiBps)
	case r.IdleConns > 0:
		return fmt.Sprintf("%d conns, %.2f KiB/conn", r.IdleConns, r.IdleKiBPerConn)
	}
	return fmt.Sprintf("%.0f req/s p99 %.2fms cpu %.2fs/100k; others' CPU: server %.0f%%, load %.0f%%; CPUs busy: load %.0f%%, server %.0f%%",
		r.RPS, r.P99, r.CPUPer100k, r.ForeignServerPct, r.ForeignLoadPct, r.LoadBusyPct, r.ServerBusyPct)
}

// runOne starts product p fresh, runs scenario sc once and stops it.
// attempt counts the runs of one (scenario, product, round) from 1 (see
// repeatDisturbed); a later attempt's raw output is suffixed -a<attempt>.
func (h *harness) runOne(sc scenario, p *product, rep, attempt int, profile bool) *runResult {
	r := &runResult{Scenario: sc.name, Product: p.name, Rep: rep, Status: statusOK, OriginDelta: -1}
	h.seq++
	dir := filepath.Join(h.runDir, fmt.Sprintf("%03d-%s-%s", h.seq, sc.name, p.name))
	if err := os.MkdirAll(dir, 0o777); err != nil {
		r.fail("%v", err)
		return r
	}
	port, err := freePort()
	if err != nil {
		r.fail("%v", err)
		return r
	}
	aport, err := freePort()
	if err != nil {
		r.fail("%v", err)
		return r
	}
	oport, _ := strconv.Atoi(h.originAddr[strings.LastIndexByte(h.originAddr, ':')+1:])
	sport, _ := strconv.Atoi(h.sourceAddr[strings.LastIndexByte(h.sourceAddr, ':')+1:])
	v := peerVars{
		Dir: dir, ShmDir: filepath.Join(h.shmDir, fmt.Sprintf("%03d", h.seq)),
		Listen: "127.0.0.1:" + strconv.Itoa(port), Host: "127.0.0.1", Port: port,
		Admin:      "127.0.0.1:" + strconv.Itoa(aport),
		OriginHost: "127.0.0.1", OriginPort: oport, SourcePort: sport,
		CacheBytes: h.cfg.cacheMiB << 20, CacheMiB: h.cfg.cacheMiB,
		Cores: h.serverCores, MaxFiles: h.maxFiles, ConnLimit: max(h.maxFiles-1000, 1024),
	}
	os.MkdirAll(v.ShmDir, 0o777)
	defer os.RemoveAll(v.ShmDir)

	s, err := p.start(h, dir, v)
	if err != nil {
		r.fail("start: %v", err)
		return r
	}
	s.closesSilently = p.closesSilently
	defer func() {
		s.stop()
		if r.Status != statusOK {
			h.keepLogs(dir, r)
		}
		time.Sleep(500 * time.Millisecond) // let sockets of the last run drain
	}()
	if err := waitReady(s, 30*time.Second); err != nil {
		r.fail("start: %v", err)
		return r
	}

	rawBase := filepath.Join(h.outDir, "raw", fmt.Sprintf("%s-%s-r%d", sc.name, p.name, rep))
	if attempt > 1 {
		rawBase += fmt.Sprintf("-a%d", attempt)
	}
	if profile {
		rawBase += "-profile"
	}
	r.Raw, _ = filepath.Rel(h.outDir, rawBase+".txt")
	var prof chan struct{}
	if profile && s.admin != "" {
		prof = h.fetchProfile(s.admin, sc)
	}
	switch sc.kind {
	case "hit", "pass", "zipf":
		h.runLoadScenario(sc, s, r, rawBase)
	case "tunnel":
		until := time.Now()
		if profile {
			until = until.Add(11 * time.Second)
		}
		h.runTunnel(s, r, rawBase+".txt", until)
	case "idle":
		h.runIdle(sc, s, r, rawBase+".txt")
	}
	if prof != nil {
		<-prof
	}
	return r
}

// keepLogs copies a failed run's server logs next to the results.
func (h *harness) keepLogs(dir string, r *runResult) {
	dst := filepath.Join(h.outDir, "logs", fmt.Sprintf("%s-%s-r%d", r.Scenario, r.Product, r.Rep))
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".log") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		if len(b) > 256<<10 {
			b = b[len(b)-256<<10:]
		}
		os.MkdirAll(dst, 0o755)
		rel, _ := filepath.Rel(dir, p)
		os.WriteFile(filepath.Join(dst, strings.ReplaceAll(rel, "/", "_")), b, 0o644)
		return nil
	})
}

// fetchProfile asks edgeproxy's admin listener for a profile one second
// into the run: a 10 s CPU profile, or the heap for idle-10k. A listener
// that does not serve pprof is skipped without a word.
func (h *harness) fetchProfile(admin string, sc scenario) chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(time.Second)
		path, name := "/debug/pprof/profile?seconds=10", "profile-"+sc.name+".pprof"
		if sc.kind == "idle" {
			time.Sleep(5 * time.Second)
			path, name = "/debug/pprof/heap", "heap-"+sc.name+".pprof"
		}
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Get("http://" + admin + path)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil || len(b) == 0 {
			return
		}
		os.WriteFile(filepath.Join(h.outDir, name), b, 0o644)
	}()
	return done
}

// profileMissed re-runs, once and outside the statistics, each scenario in
// which edgeproxy missed a target, with a profile taken during the run.
func (h *harness) profileMissed(targets []*target) {
	var ep *product
	for _, p := range h.products {
		if p.name == "edgeproxy" {
			ep = p
		}
	}
	if ep == nil || h.skipped[ep.name] != "" {
		return
	}
	seen := make(map[string]bool)
	for _, t := range targets {
		if t.Status != "missed" || seen[t.Scenario] {
			continue
		}
		seen[t.Scenario] = true
		sc, _ := scenarioByName(t.Scenario)
		saved := h.cfg.duration
		h.cfg.duration = max(saved, 12*time.Second)
		h.logf("profile run: %s edgeproxy", sc.name)
		r := h.runOne(sc, ep, 0, 1, true)
		h.cfg.duration = saved
		h.logf("profile run: %s", summaryLine(r))
	}
}
