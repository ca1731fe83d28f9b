package main

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// Field 2 may hold spaces and parentheses.
	line := "4242 (nginx: worker (x)) S 4241 4240 4240 0 -1 4194624 1234 0 0 0 150 37 0 0 20 0 1 0 99 1000 200 18446744073709551615\n"
	st, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if st.state != 'S' || st.ppid != 4241 || st.pgrp != 4240 || st.ticks != 187 {
		t.Errorf("got state %c ppid %d pgrp %d ticks %d, want S 4241 4240 187", st.state, st.ppid, st.pgrp, st.ticks)
	}
	for _, bad := range []string{"", "12 (x", "12 (x) S 1 2"} {
		if _, err := parseStat(bad); err == nil {
			t.Errorf("parseStat(%q): got no error", bad)
		}
	}
}

func TestParseStatusKiB(t *testing.T) {
	s := "Name:\tsquid\nVmPeak:\t  300000 kB\nVmHWM:\t   61234 kB\nVmRSS:\t   51234 kB\n"
	if got := parseStatusKiB(s, "VmRSS"); got != 51234 {
		t.Errorf("VmRSS: got %d, want 51234", got)
	}
	if got := parseStatusKiB(s, "VmHWM"); got != 61234 {
		t.Errorf("VmHWM: got %d, want 61234", got)
	}
	if got := parseStatusKiB(s, "VmSwap"); got != 0 {
		t.Errorf("absent field: got %d, want 0", got)
	}
}

func TestCPUSecondsSince(t *testing.T) {
	before := cpuSnapshot{1: 100, 2: 50}
	after := cpuSnapshot{1: 150, 2: 50, 3: 20} // pid 3 was born during the run
	if got := cpuSecondsSince(before, after); got != 0.7 {
		t.Errorf("got %v CPU-s, want 0.7", got)
	}
}

// TestStartStopGroup starts a shell that forks a child, and checks that
// stop ends both, by the group id, and that accounting finds both.
func TestStartStopGroup(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	p, err := start("sh", []string{"sh", "-c", "sleep 30 & trap '' TERM; wait"}, startOpts{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(groupPids(p.pid)) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	pids := groupPids(p.pid)
	if len(pids) < 2 {
		t.Fatalf("group %d: got pids %v, want the shell and its sleep", p.pid, pids)
	}
	if memKiB([]int{p.pid}, "VmRSS") <= 0 {
		t.Error("VmRSS of the group: got 0")
	}
	p.stop(500 * time.Millisecond)
	if left := groupPids(p.pid); len(left) > 0 {
		t.Fatalf("after stop: %v still alive", left)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err == nil {
			if st, err := readStat(pid); err == nil && st.state != 'Z' {
				t.Errorf("pid %d survived stop", pid)
			}
		}
	}
}

func TestStartWithAddr(t *testing.T) {
	p, lines, err := startWithAddr("echo", []string{"sh", "-c", "echo 127.0.0.1:1; echo source 127.0.0.1:2; sleep 30"}, startOpts{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop(time.Second)
	if strings.Join(lines, ",") != "127.0.0.1:1,source 127.0.0.1:2" {
		t.Errorf("got %q", lines)
	}
	_, _, err = startWithAddr("short", []string{"sh", "-c", "echo one"}, startOpts{}, 2)
	if err == nil {
		t.Error("a tool that prints too few lines: got no error")
	}
}

func TestPrefixArgv(t *testing.T) {
	for _, tc := range []struct {
		cpus string
		nice int
		want string
	}{
		{"", 0, "wrk -c 64"},
		{"1", 0, "taskset -c 1 wrk -c 64"},
		{"", -10, "nice -n -10 wrk -c 64"},
		{"0-1", -10, "taskset -c 0-1 nice -n -10 wrk -c 64"},
	} {
		if got := strings.Join(prefixArgv([]string{"wrk", "-c", "64"}, tc.cpus, tc.nice), " "); got != tc.want {
			t.Errorf("cpus %q nice %d: got %q, want %q", tc.cpus, tc.nice, got, tc.want)
		}
	}
}
