// Package config reads edgeproxy's single YAML configuration file.
//
// The file maps onto Config, a plain struct whose zero values mean the
// defaults, in the manner of net/http.Transport: an absent key and a zero
// value are the same thing, so Default is simply a zero Config passed through
// Validate. The three settings where zero or empty is a meaningful choice
// (cache.heuristic_percent, cache.enabled, tunnel.allowed_ports) are pointers,
// and nil is what means "use the default".
//
// Loading is strict and happens once, at start-up. Parse walks the YAML node
// tree against the struct's yaml tags, so every key it meets is either a known
// field or an error naming its path and line; a value of the wrong shape is
// refused the same way. Validate then fills in defaults and checks ranges and
// cross-field rules in one pass, and Parse places its complaint on the line
// where the offending key was written. Every failure is an *Error carrying the
// file, line, key path and reason as fields, never a panic later on.
package config
