package acl

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultSafePorts are the ports absolute-URI requests may reach by default:
// Squid's Safe_ports (http 80, ftp 21, https 443, gopher 70, wais 210,
// http-mgmt 280, gss-http 488, filemaker 591, multiling http 777, and every
// unregistered port from 1025), so that the proxy cannot be used to talk
// SMTP, IMAP or other line protocols to a server that ignores the HTTP
// framing around them.
var DefaultSafePorts = []string{"80", "21", "443", "70", "210", "280", "488", "591", "777", "1025-65535"}

// PortSet is a set of TCP ports, one bit per port. It is read-only once
// built and safe for concurrent use.
type PortSet struct {
	bits [65536 / 64]uint64
}

// ParsePorts builds a PortSet from entries that are each a port ("443") or
// an inclusive range ("1025-65535"), 1–65535. An error names the entry and
// wraps ErrPort.
func ParsePorts(entries []string) (*PortSet, error) {
	s := &PortSet{}
	for i, e := range entries {
		lo, hi, ok := parsePortRange(strings.TrimSpace(e))
		if !ok {
			return nil, fmt.Errorf("[%d] %q: %w (a port or a range such as 1025-65535)", i, e, ErrPort)
		}
		for p := lo; p <= hi; p++ {
			s.bits[p/64] |= 1 << (p % 64)
		}
	}
	return s, nil
}

func parsePortRange(e string) (lo, hi int, ok bool) {
	a, b, isRange := strings.Cut(e, "-")
	lo, err := strconv.Atoi(strings.TrimSpace(a))
	if err != nil {
		return 0, 0, false
	}
	hi = lo
	if isRange {
		if hi, err = strconv.Atoi(strings.TrimSpace(b)); err != nil {
			return 0, 0, false
		}
	}
	if lo < 1 || hi > 65535 || lo > hi {
		return 0, 0, false
	}
	return lo, hi, true
}

// Contains reports whether port is in the set.
func (s *PortSet) Contains(port int) bool {
	return port > 0 && port < 65536 && s.bits[port/64]&(1<<(port%64)) != 0
}
