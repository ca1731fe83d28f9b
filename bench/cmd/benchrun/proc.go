package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one process the harness started. Each runs in its own process
// group (Setpgid), so a server's workers and helpers (nginx, varnishd,
// squid) can be found for accounting and killed with it, by id.
type proc struct {
	name string
	cmd  *exec.Cmd
	pid  int
	done chan struct{} // closed when the leader has been reaped
	err  error         // the leader's exit status; valid after done
}

// procTable tracks every live proc so that a signal or a fatal error can
// stop them all. pidFile, when set, gets one line per started pid for the
// shell wrapper's trap, the last line of defence if benchrun itself dies.
type procTable struct {
	mu      sync.Mutex // protects live
	live    map[int]*proc
	pidFile string
	// nice, when not 0, is the niceness every started process runs at
	// (-nice): below 0 the run's processes win the CPU over other work on
	// a shared machine. Set before the first start.
	nice int
}

var procs = &procTable{live: make(map[int]*proc)}

// startOpts are the optional parts of a process start.
type startOpts struct {
	cpus   string    // taskset CPU list, "" for no pinning
	dir    string    // working directory
	env    []string  // extra environment
	logTo  string    // file for stdout and stderr ("" = discard)
	stdout io.Writer // overrides logTo for stdout
	stdin  io.Reader
}

// start launches argv (through taskset when opts.cpus is set).
func start(name string, argv []string, opts startOpts) (*proc, error) {
	argv = prefixArgv(argv, opts.cpus, procs.nice)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if procs.nice != 0 {
		// A session of its own (and so a process group of its own, as
		// with Setpgid) is an autogroup of its own, whose niceness is set
		// below: see setAutogroupNice.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	}
	cmd.Dir = opts.dir
	cmd.Env = append(os.Environ(), opts.env...)
	cmd.Stdin = opts.stdin
	var logf *os.File
	if opts.logTo != "" {
		f, err := os.OpenFile(opts.logTo, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		logf = f
		cmd.Stdout, cmd.Stderr = f, f
	}
	if opts.stdout != nil {
		cmd.Stdout = opts.stdout
	}
	if err := cmd.Start(); err != nil {
		if logf != nil {
			logf.Close()
		}
		return nil, fmt.Errorf("benchrun: start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	if procs.nice != 0 {
		setAutogroupNice(p.pid, procs.nice)
	}
	procs.add(p)
	go func() {
		p.err = cmd.Wait()
		if logf != nil {
			logf.Close()
		}
		close(p.done)
	}()
	return p, nil
}

// prefixArgv runs argv pinned to cpus (taskset) and at niceness nice
// (nice -n); both exec the next program, so the pid stays the program's.
func prefixArgv(argv []string, cpus string, nice int) []string {
	if nice != 0 {
		argv = append([]string{"nice", "-n", strconv.Itoa(nice)}, argv...)
	}
	if cpus != "" {
		argv = append([]string{"taskset", "-c", cpus}, argv...)
	}
	return argv
}

// setAutogroupNice gives the autogroup of session leader pid the niceness
// nice. With autogroup scheduling on (kernel.sched_autogroup_enabled, the
// default of most distributions), the CPU is shared between sessions
// first and a process's own niceness counts only within its session, so
// the per-process nice alone does nothing against another session's build.
// Without autogroups the file does not exist and nothing happens.
func setAutogroupNice(pid, nice int) {
	_ = os.WriteFile(filepath.Join("/proc", strconv.Itoa(pid), "autogroup"), []byte(strconv.Itoa(nice)), 0o644)
}

// startWithAddr starts a bench tool that prints its address(es) on its
// first stdout lines, and returns them.
func startWithAddr(name string, argv []string, opts startOpts, lines int) (*proc, []string, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	opts.stdout = pw
	p, err := start(name, argv, opts)
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, nil, err
	}
	got := make(chan []string, 1)
	go func() {
		br := bufio.NewReader(pr)
		var out []string
		for len(out) < lines {
			l, err := br.ReadString('\n')
			if err != nil {
				break
			}
			out = append(out, strings.TrimSpace(l))
		}
		got <- out
		io.Copy(io.Discard, br)
		pr.Close()
	}()
	select {
	case out := <-got:
		if len(out) < lines {
			p.stop(2 * time.Second)
			return nil, nil, fmt.Errorf("benchrun: %s printed %d of %d address lines (see its log)", name, len(out), lines)
		}
		return p, out, nil
	case <-time.After(15 * time.Second):
		p.stop(2 * time.Second)
		return nil, nil, fmt.Errorf("benchrun: %s printed no address within 15s", name)
	}
}

func (t *procTable) add(p *proc) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.live[p.pid] = p
	if t.pidFile != "" {
		if f, err := os.OpenFile(t.pidFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
			fmt.Fprintf(f, "%d %s\n", p.pid, p.name)
			f.Close()
		}
	}
}

func (t *procTable) remove(p *proc) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.live, p.pid)
}

// stopAll stops every live proc, newest first.
func (t *procTable) stopAll() {
	t.mu.Lock()
	var ps []*proc
	for _, p := range t.live {
		ps = append(ps, p)
	}
	t.mu.Unlock()
	for _, p := range ps {
		p.stop(3 * time.Second)
	}
}

// exited reports whether the leader is gone.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the leader, waits up to grace, then SIGKILLs the
// whole process group (workers that outlived their master included).
func (p *proc) stop(grace time.Duration) {
	if !p.exited() {
		syscall.Kill(p.pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
		}
	}
	if len(groupPids(p.pid)) > 0 {
		syscall.Kill(-p.pid, syscall.SIGTERM)
		deadline := time.Now().Add(grace)
		for len(groupPids(p.pid)) > 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		syscall.Kill(-p.pid, syscall.SIGKILL)
	}
	select {
	case <-p.done:
	case <-time.After(grace):
	}
	procs.remove(p)
}

// groupPids lists the live (non-zombie) processes of process group pgid.
func groupPids(pgid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err != nil || st.pgrp != pgid || st.state == 'Z' {
			continue
		}
		out = append(out, pid)
	}
	return out
}

// procStat is the part of /proc/<pid>/stat the bench reads.
type procStat struct {
	state byte
	ppid  int
	pgrp  int
	ticks uint64 // utime + stime, in clock ticks
}

// clockTicks is USER_HZ; 100 on every Linux architecture Go supports.
const clockTicks = 100

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(string(b))
}

// parseStat reads /proc/<pid>/stat; the command name may hold spaces and
// parentheses, so fields are counted from the last ')'.
func parseStat(s string) (procStat, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return procStat{}, errBadStat
	}
	f := strings.Fields(s[i+2:])
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return procStat{}, errBadStat
	}
	var st procStat
	st.state = f[0][0]
	st.ppid, _ = strconv.Atoi(f[1])
	st.pgrp, _ = strconv.Atoi(f[2])
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	stt, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return procStat{}, errBadStat
	}
	st.ticks = ut + stt
	return st, nil
}

// cpuSnapshot maps each pid of a server to its consumed CPU ticks.
type cpuSnapshot map[int]uint64

func snapshotCPU(pgids []int) cpuSnapshot {
	s := make(cpuSnapshot)
	for _, g := range pgids {
		for _, pid := range groupPids(g) {
			if st, err := readStat(pid); err == nil {
				s[pid] = st.ticks
			}
		}
	}
	return s
}

// cpuSecondsSince sums, over the processes alive now, the CPU time used
// since before; processes born in between count in full.
func cpuSecondsSince(before, after cpuSnapshot) float64 {
	var d uint64
	for pid, t := range after {
		if b, ok := before[pid]; ok && t >= b {
			d += t - b
		} else if !ok {
			d += t
		}
	}
	return float64(d) / clockTicks
}

// memKiB sums a /proc/<pid>/status field (VmRSS, VmHWM) over the
// processes of the given groups.
func memKiB(pgids []int, field string) int64 {
	var sum int64
	for _, g := range pgids {
		for _, pid := range groupPids(g) {
			sum += statusKiB(pid, field)
		}
	}
	return sum
}

func statusKiB(pid int, field string) int64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	return parseStatusKiB(string(b), field)
}

// parseStatusKiB finds "Field:   1234 kB" in a /proc status text.
func parseStatusKiB(s, field string) int64 {
	for _, l := range strings.Split(s, "\n") {
		if rest, ok := strings.CutPrefix(l, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}
