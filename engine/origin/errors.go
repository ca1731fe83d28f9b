package origin

import "errors"

// Errors an exchange can end with. Malformed responses are reported as
// ErrMalformed joined with the codec sentinel that refused them.
var (
	// ErrMalformed means the origin's response broke HTTP/1.1 framing or
	// syntax (the joined codec error says how); answered 502, never stored.
	ErrMalformed = errors.New("origin: malformed response")
	// ErrClosed means the origin closed the connection before the response
	// was complete.
	ErrClosed = errors.New("origin: connection closed before the response ended")
	// ErrHeadTimeout means the whole response head did not arrive within
	// Config.HeadTimeout of the request being written.
	ErrHeadTimeout = errors.New("origin: response head timed out")
	// ErrIdleTimeout means the body made no progress for Config.IdleTimeout.
	ErrIdleTimeout = errors.New("origin: response body stalled")
	// ErrUpgrade means a 101 answered a request that did not ask to upgrade
	// to a protocol the proxy relays (RFC 9110 §15.2.2).
	ErrUpgrade = errors.New("origin: unexpected 101 Switching Protocols")
	// ErrTooManyConns means the loop already holds Config.MaxConns origin
	// connections.
	ErrTooManyConns = errors.New("origin: too many origin connections")
	// ErrShutdown means the event loop is stopping and cannot take a new
	// origin connection.
	ErrShutdown = errors.New("origin: event loop shutting down")
)
