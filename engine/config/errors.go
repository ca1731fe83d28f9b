package config

import (
	"strconv"
	"strings"
)

// Error reports a configuration that cannot be used: a file that cannot be
// read, a key that does not exist, or a value of the wrong type or out of
// range. Its Error method reads like
//
//	edgeproxy.yaml:12: timeouts.client_header: "abc" is not a duration (write 30s, 5m)
type Error struct {
	// File is the name passed to Load or Parse; empty when the error comes
	// from Validate on a Config built in code.
	File string
	// Line is the 1-based line of the offending key or value; 0 when no
	// single line is to blame (an unreadable file, a default that conflicts
	// with another setting).
	Line int
	// Key is the dotted path of the offending key, such as
	// "timeouts.client_header" or "tunnel.allowed_ports[1]"; empty when the
	// error concerns the file as a whole.
	Key string
	// Reason says what is wrong and, where it helps, what to write instead.
	Reason string
	// Err is the underlying cause, if any (an *fs.PathError for a file that
	// cannot be read), so that errors.Is(err, fs.ErrNotExist) works.
	Err error
}

// Error formats e as "file:line: key: reason", leaving out the parts that are
// unknown. Without a file name the message starts with "config: ".
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "":
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	case e.Line > 0:
		b.WriteString("config: line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	default:
		b.WriteString("config: ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Unwrap returns the underlying cause, or nil.
func (e *Error) Unwrap() error { return e.Err }
