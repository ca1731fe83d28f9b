//go:build !linux

package tuning

// PinThread binds the calling OS thread to cpu. It is only implemented on
// Linux; elsewhere it returns ErrUnsupported.
func PinThread(cpu int) error { return ErrUnsupported }

// AllowedCPUs returns the CPUs the calling thread may run on. It is only
// implemented on Linux; elsewhere it returns ErrUnsupported.
func AllowedCPUs() ([]int, error) { return nil, ErrUnsupported }
