package acl

import (
	"net/netip"

	"edgeproxy/codec"
)

// HostAddr returns the address a request host names when it is an IP
// address in any spelling a client library or resolver accepts, so that a
// check on the address cannot be side-stepped by writing it differently:
//
//   - an IPv6 literal, with or without the brackets of a URL authority
//     (RFC 3986 §3.2.2), including IPv4-mapped forms ([::ffff:127.0.0.1]);
//   - dotted-decimal IPv4;
//   - the forms of inet_aton(3) and of the WHATWG URL standard's IPv4
//     parser: one to four parts, each decimal, octal with a leading 0, or
//     hexadecimal with 0x, the last part filling the remaining bytes
//     (2130706433, 0177.0.0.1, 0x7f.1 and 127.1 all name 127.0.0.1);
//   - any of these with one trailing dot (127.0.0.1.).
//
// An IPv4-mapped IPv6 address is returned as IPv4. ok is false for a host
// name. HostAddr does not allocate.
func HostAddr(h []byte) (a netip.Addr, ok bool) {
	if a, ok = parseHostIP(h); ok {
		return a.Unmap(), true
	}
	if len(h) > 0 && h[len(h)-1] == '.' {
		h = h[:len(h)-1]
	}
	return parseIPv4Loose(h)
}

// IsLocalhostName reports whether h is "localhost" or a name under it,
// ignoring case and a trailing dot. RFC 6761 §6.3 reserves these names for
// the loopback interface, so they are loopback whatever a resolver answers.
func IsLocalhostName(h []byte) bool {
	if len(h) > 0 && h[len(h)-1] == '.' {
		h = h[:len(h)-1]
	}
	const name = "localhost"
	if len(h) < len(name) || !codec.EqualFold(h[len(h)-len(name):], name) {
		return false
	}
	return len(h) == len(name) || h[len(h)-len(name)-1] == '.'
}

// parseIPv4Loose parses the one- to four-part IPv4 forms of inet_aton(3).
// Every part must be a number; a part that is not makes the host a name.
func parseIPv4Loose(h []byte) (netip.Addr, bool) {
	if len(h) == 0 {
		return netip.Addr{}, false
	}
	var parts [4]uint64
	n := 0
	for start := 0; start <= len(h); {
		end := start
		for end < len(h) && h[end] != '.' {
			end++
		}
		if n == 4 {
			return netip.Addr{}, false
		}
		v, ok := parseIPv4Part(h[start:end])
		if !ok {
			return netip.Addr{}, false
		}
		parts[n] = v
		n++
		start = end + 1
	}
	var v uint64
	for i := 0; i < n-1; i++ {
		if parts[i] > 255 {
			return netip.Addr{}, false
		}
		v = v<<8 | parts[i]
	}
	last := parts[n-1]
	if last >= 1<<(8*(5-n)) {
		return netip.Addr{}, false
	}
	v = v<<(8*(5-n)) | last
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// parseIPv4Part parses one part: 0x-prefixed hexadecimal, 0-prefixed octal
// or decimal. Values above 2^32 are refused, so the sums cannot overflow.
func parseIPv4Part(p []byte) (uint64, bool) {
	if len(p) == 0 {
		return 0, false
	}
	base := uint64(10)
	switch {
	case len(p) >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'):
		base, p = 16, p[2:]
		if len(p) == 0 {
			return 0, true // "0x" alone is zero, as inet_aton reads it
		}
	case len(p) >= 2 && p[0] == '0':
		base, p = 8, p[1:]
	}
	var v uint64
	for _, c := range p {
		d := hexVal(c)
		if d < 0 || uint64(d) >= base {
			return 0, false
		}
		v = v*base + uint64(d)
		if v > 1<<32 {
			return 0, false
		}
	}
	return v, true
}
