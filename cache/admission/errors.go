package admission

import "errors"

// Sentinel errors returned by NewPolicy. Callers compare with errors.Is.
var (
	// ErrCapacity means Config.Capacity is negative.
	ErrCapacity = errors.New("admission: negative capacity")

	// ErrExpectedObjects means Config.ExpectedObjects is negative or above
	// MaxExpectedObjects.
	ErrExpectedObjects = errors.New("admission: expected objects out of range")

	// ErrSmallSize means Config.SmallSize is negative.
	ErrSmallSize = errors.New("admission: negative small size")
)
