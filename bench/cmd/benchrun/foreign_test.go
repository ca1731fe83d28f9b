package main

import (
	"slices"
	"testing"
	"time"
)

func TestParseCPUBusy(t *testing.T) {
	const stat = `cpu  300 10 200 5000 40 5 6 7 0 0
cpu0 100 0 50 2500 20 1 2 3 0 0
cpu1 200 10 150 2500 20 4 4 4 0 0
intr 12345
ctxt 999
`
	got := parseCPUBusy(stat)
	// user+nice+system+steal: cpu0 100+0+50+3 = 153; cpu1 200+10+150+4 = 364.
	if len(got) != 2 || got[0] != 153 || got[1] != 364 {
		t.Errorf("got %v, want map[0:153 1:364]", got)
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
