package prefetch

import "errors"

// Sentinel errors. Callers compare with errors.Is.
var (
	// ErrFormat means RunReport recognised neither Squid native nor
	// Common/Combined Log Format in the first lines of a log.
	ErrFormat = errors.New("prefetch: log format not recognised")

	// ErrOptions means an Options field is out of range; the wrapping error
	// names the field.
	ErrOptions = errors.New("prefetch: bad options")

	// ErrSchedule means a schedule is not "any" or HH:MM-HH:MM ranges.
	ErrSchedule = errors.New("prefetch: bad schedule")
)
