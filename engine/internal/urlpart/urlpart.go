// Package urlpart holds the URL pieces the ftp:// and gopher:// clients
// both take apart and put together: the port of the authority, the dial
// address, and percent-encoding (RFC 3986 §2.1). Each caller states its own
// policy (the default port, the bytes it refuses after decoding, the bytes
// it leaves unencoded) and maps a failure to its own sentinel error.
package urlpart

import (
	"net"
	"strconv"
	"strings"
)

// Port parses the port of a URL's authority; an empty one is def. ok is
// false when it is not a number.
func Port(b []byte, def int) (port int, ok bool) {
	if len(b) == 0 {
		return def, true
	}
	p, err := strconv.Atoi(string(b))
	if err != nil {
		return 0, false
	}
	return p, true
}

// Addr is the address to dial, host:port, for a host as written in a URL
// (an IPv6 literal in brackets or not).
func Addr(host string, port int) string {
	return net.JoinHostPort(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), strconv.Itoa(port))
}

// Unescape percent-decodes s, '+' as a space too when form is set. ok is
// false for a malformed escape or when a decoded byte is one of refuse
// (the bytes that would break the line the result goes into).
func Unescape(s string, form bool, refuse string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 && (!form || strings.IndexByte(s, '+') < 0) {
		if strings.ContainsAny(s, refuse) {
			return "", false
		}
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) {
				return "", false
			}
			h, ok1 := unhex(s[i+1])
			l, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", false
			}
			c = h<<4 | l
			i += 2
		case c == '+' && form:
			c = ' '
		}
		if strings.IndexByte(refuse, c) >= 0 {
			return "", false
		}
		b = append(b, c)
	}
	return string(b), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// Escape percent-encodes s: every byte but ASCII letters, digits and the
// bytes of safe.
func Escape(s, safe string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte(safe, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
