package acl

import "net/netip"

// parseHostIP parses a request host that is an IP literal: dotted IPv4, or
// IPv6 with or without the brackets of a URL authority (RFC 3986 §3.2.2).
// A zone (fe80::1%25eth0) is dropped. It accepts what netip.ParseAddr
// accepts and, unlike it, does not allocate; ok is false for a host name.
func parseHostIP(h []byte) (a netip.Addr, ok bool) {
	if len(h) >= 2 && h[0] == '[' && h[len(h)-1] == ']' {
		h = h[1 : len(h)-1]
	}
	zoned := false
	for i, c := range h {
		if c == '%' {
			h, zoned = h[:i], true
			break
		}
	}
	for _, c := range h {
		if c == ':' {
			return parseIP6(h)
		}
	}
	var b [4]byte
	if zoned {
		return netip.Addr{}, false
	}
	if !parseIP4(h, &b) {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(b), true
}

// parseIP4 parses dotted-decimal IPv4 with exactly four fields, each 0–255
// without leading zeros, as netip.ParseAddr does.
func parseIP4(s []byte, out *[4]byte) bool {
	field, val, digits := 0, 0, 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			if digits == 1 && val == 0 {
				return false // leading zero
			}
			val = val*10 + int(c-'0')
			digits++
			if val > 255 {
				return false
			}
		case c == '.':
			if digits == 0 || field == 3 {
				return false
			}
			out[field] = byte(val)
			field, val, digits = field+1, 0, 0
		default:
			return false
		}
	}
	if digits == 0 || field != 3 {
		return false
	}
	out[3] = byte(val)
	return true
}

// hexVal returns the value of a hex digit, or -1.
func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// parseIP6 parses IPv6 text (RFC 4291 §2.2): up to eight groups of one to
// four hex digits, at most one "::" standing for one or more zero groups, and
// an optional trailing dotted IPv4 address in place of the last two groups.
func parseIP6(s []byte) (netip.Addr, bool) {
	var ip [16]byte
	ellipsis := -1
	if len(s) >= 2 && s[0] == ':' && s[1] == ':' {
		ellipsis, s = 0, s[2:]
	}
	i := 0
	for i < 16 && len(s) > 0 {
		n, acc := 0, 0
		for n < len(s) && n < 5 {
			v := hexVal(s[n])
			if v < 0 {
				break
			}
			acc = acc<<4 | v
			n++
		}
		if n == 0 || n > 4 {
			return netip.Addr{}, false
		}
		if n < len(s) && s[n] == '.' {
			if i > 12 || (ellipsis < 0 && i != 12) {
				return netip.Addr{}, false
			}
			var v4 [4]byte
			if !parseIP4(s, &v4) {
				return netip.Addr{}, false
			}
			copy(ip[i:], v4[:])
			i, s = i+4, nil
			break
		}
		ip[i], ip[i+1] = byte(acc>>8), byte(acc)
		i, s = i+2, s[n:]
		if len(s) == 0 {
			break
		}
		if s[0] != ':' || len(s) == 1 {
			return netip.Addr{}, false
		}
		s = s[1:]
		if s[0] == ':' {
			if ellipsis >= 0 {
				return netip.Addr{}, false
			}
			ellipsis, s = i, s[1:]
		}
	}
	if len(s) != 0 {
		return netip.Addr{}, false
	}
	if i < 16 {
		if ellipsis < 0 {
			return netip.Addr{}, false
		}
		n := 16 - i
		copy(ip[ellipsis+n:], ip[ellipsis:i])
		clear(ip[ellipsis : ellipsis+n])
	} else if ellipsis >= 0 {
		return netip.Addr{}, false // "::" must stand for at least one group
	}
	return netip.AddrFrom16(ip), true
}
