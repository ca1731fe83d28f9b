package gopher

import "errors"

var (
	// ErrSelector means a selector or search string that holds CR, LF, TAB
	// or NUL once percent-decoded, or does not decode.
	ErrSelector = errors.New("gopher: selector holds CR, LF, TAB or NUL, or bad percent-encoding")
	// ErrType means an item type the proxy does not fetch: telnet sessions
	// (8, T), CSO phone books (2), and menu-only types (i, 3).
	ErrType = errors.New("gopher: item type not fetched by the proxy")
	// ErrLineTooLong means a menu line longer than MaxLine bytes.
	ErrLineTooLong = errors.New("gopher: menu line too long")
	// ErrMenuTooLarge means a menu larger than MaxMenu bytes.
	ErrMenuTooLarge = errors.New("gopher: menu too large")
)
