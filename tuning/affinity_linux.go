package tuning

import (
	"fmt"
	"syscall"
	"unsafe"
)

// cpuSetSize is the number of CPUs a cpuMask holds: glibc's CPU_SETSIZE.
const cpuSetSize = 1024

// cpuMask is the kernel's cpumask as an array of unsigned longs. uint64
// words match it on every 64-bit platform.
type cpuMask [cpuSetSize / 64]uint64

// PinThread binds the calling OS thread to cpu with sched_setaffinity(2).
//
// The caller must have called runtime.LockOSThread, or the goroutine may
// move to another thread and leave the pinned one running other goroutines
// on a single CPU. The binding lasts for the thread's life: a goroutine that
// pins its thread should exit while still locked, which makes the runtime
// discard the thread, or restore the previous mask before unlocking. cpu
// must be in the process's allowed set (see AllowedCPUs), or the kernel
// refuses with EINVAL.
func PinThread(cpu int) error {
	if cpu < 0 || cpu >= cpuSetSize {
		return fmt.Errorf("%w: %d", ErrCPURange, cpu)
	}
	var m cpuMask
	m[cpu/64] |= 1 << (cpu % 64)
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(m), uintptr(unsafe.Pointer(&m)))
	if errno != 0 {
		return fmt.Errorf("tuning: pin thread to CPU %d: %w", cpu, errno)
	}
	return nil
}

// AllowedCPUs returns the CPUs the calling thread may run on, in increasing
// order, as sched_getaffinity(2) reports them. engine.pin_cpus should name
// only these.
func AllowedCPUs() ([]int, error) {
	var m cpuMask
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(m), uintptr(unsafe.Pointer(&m)))
	if errno != 0 {
		return nil, fmt.Errorf("tuning: sched_getaffinity: %w", errno)
	}
	var cpus []int
	for i, w := range m {
		for b := 0; b < 64; b++ {
			if w&(1<<b) != 0 {
				cpus = append(cpus, i*64+b)
			}
		}
	}
	return cpus, nil
}
