package tuning

import (
	"errors"
	"runtime"
	"slices"
	"testing"
)

func TestPinThread(t *testing.T) {
	allowed, err := AllowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if len(allowed) < 2 {
		t.Skipf("only %d CPU allowed: pinning would change nothing", len(allowed))
	}
	cpu := allowed[len(allowed)-1]
	type result struct {
		got []int
		err error
	}
	done := make(chan result)
	go func() {
		// Exit while locked: the runtime then discards the pinned thread
		// instead of running other goroutines on it.
		runtime.LockOSThread()
		if err := PinThread(cpu); err != nil {
			done <- result{err: err}
			return
		}
		got, err := AllowedCPUs()
		done <- result{got, err}
	}()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if want := []int{cpu}; !slices.Equal(r.got, want) {
		t.Errorf("got affinity %v, want %v", r.got, want)
	}
}

func TestPinThreadRange(t *testing.T) {
	for _, cpu := range []int{-1, cpuSetSize} {
		if err := PinThread(cpu); !errors.Is(err, ErrCPURange) {
			t.Errorf("PinThread(%d): got %v, want %v", cpu, err, ErrCPURange)
		}
	}
}
