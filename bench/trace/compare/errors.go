package main

import "errors"

// Sentinel errors of the comparison.
var (
	// errUnknownConfig means -configs names a configuration that is not in
	// the table of variants.
	errUnknownConfig = errors.New("compare: unknown configuration")

	// errNotReady means the proxy did not accept connections in time, or
	// exited before it did.
	errNotReady = errors.New("compare: proxy did not start")

	// errCurve means -prefetch-curve is not a list of thresholds.
	errCurve = errors.New("compare: -prefetch-curve wants thresholds above 0, at most 1")
	// errSizes means -sizes is not a list of percentages.
	errSizes = errors.New("compare: -sizes wants percentages between 0 and 100")

	// errReplayOutput means replay printed no result that could be read.
	errReplayOutput = errors.New("compare: unreadable replay output")
)
