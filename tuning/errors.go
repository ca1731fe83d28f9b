package tuning

import "errors"

// ErrCPURange is returned by PinThread for a CPU number outside the kernel's
// affinity mask size (0 to 1023).
var ErrCPURange = errors.New("tuning: cpu number out of range")

// ErrUnsupported is returned on platforms without sched_setaffinity(2).
var ErrUnsupported = errors.New("tuning: not supported on this platform")
