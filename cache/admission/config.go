package admission

import "fmt"

// Config configures a Policy. The zero value of each field selects its
// default; the zero Config is a disabled policy that admits everything.
type Config struct {
	// Enabled turns admission on. When false, Admit always returns true and
	// Record, Evicted and Stored do nothing.
	Enabled bool

	// Capacity is the cache's size in bytes. An object bigger than Capacity
	// is never admitted. If zero, no object is refused for its size alone.
	Capacity int64

	// ExpectedObjects is the number of objects the cache holds when full: the
	// width of the sketch's rows (rounded up to a power of two) and the
	// ghost's generation. If zero, Capacity / DefaultObjectSize is used, at
	// least 1024, or DefaultExpectedObjects when Capacity is zero too.
	ExpectedObjects int

	// SmallSize is the size up to which an object needs only to have been
	// seen before (a frequency of 2); each doubling beyond it costs one more
	// request. If zero, DefaultSmallSize is used.
	SmallSize int64
}

// Defaults for the zero values of Config.
const (
	DefaultSmallSize       = 64 << 10
	DefaultObjectSize      = 16 << 10
	DefaultExpectedObjects = 1 << 16

	// MaxExpectedObjects bounds ExpectedObjects: the sketch takes 2 bytes
	// per column (ExpectedObjects rounded up to a power of two) and the
	// ghost 3 bytes per expected object, so 2^26 objects is 320 MiB of
	// admission state, beyond any cache this proxy runs.
	MaxExpectedObjects = 1 << 26
)

// withDefaults validates c and fills in its zero fields.
func (c Config) withDefaults() (Config, error) {
	if c.Capacity < 0 {
		return c, fmt.Errorf("%w: capacity %d", ErrCapacity, c.Capacity)
	}
	if c.SmallSize < 0 {
		return c, fmt.Errorf("%w: small_size %d", ErrSmallSize, c.SmallSize)
	}
	if c.ExpectedObjects < 0 || c.ExpectedObjects > MaxExpectedObjects {
		return c, fmt.Errorf("%w: expected_objects %d, want 0 to %d", ErrExpectedObjects, c.ExpectedObjects, MaxExpectedObjects)
	}
	if c.SmallSize == 0 {
		c.SmallSize = DefaultSmallSize
	}
	if c.ExpectedObjects == 0 {
		switch {
		case c.Capacity == 0:
			c.ExpectedObjects = DefaultExpectedObjects
		default:
			c.ExpectedObjects = int(min(max(c.Capacity/DefaultObjectSize, 1024), MaxExpectedObjects))
		}
	}
	return c, nil
}
