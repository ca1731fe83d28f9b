package engine

import "time"

// originTimeouts are the limits put on an origin connection.
type originTimeouts struct {
	connect   time.Duration // dial, including DNS
	firstByte time.Duration // from the request written to the first response byte
	idle      time.Duration // longest gap between reads or writes afterwards
}
