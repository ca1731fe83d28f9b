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

	// errReplayOutput means replay printed no result that could be read.
	errReplayOutput = errors.New("compare: unreadable replay output")
)
