package accesslog

import "errors"

var (
	// ErrFormat means a log.format other than squid, common or combined.
	ErrFormat = errors.New("accesslog: unknown log format")
	// ErrClosed means Reopen on a closed Writer.
	ErrClosed = errors.New("accesslog: writer closed")
)
