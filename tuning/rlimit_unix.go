//go:build unix

package tuning

import "syscall"

// getNofile reads RLIMIT_NOFILE. The os package raises the soft limit to the
// hard limit at start-up (since Go 1.19), so in a Go process the two are
// normally equal and the hard limit is what the operator controls.
func getNofile() (soft, hard uint64, err error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, 0, err
	}
	return uint64(rl.Cur), uint64(rl.Max), nil
}
