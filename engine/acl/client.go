package acl

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"strings"
)

// maxSnippet bounds how much of a bad line an error quotes.
const maxSnippet = 64

// defaultRanges are the client ranges allowed when no allow list is
// configured: loopback, RFC 1918 private space, link-local, and IPv6 unique
// local addresses.
//
// 100.64.0.0/10 (RFC 6598 shared address space, "CGNAT") is deliberately
// absent: addresses there belong to a carrier's subscribers or to an overlay
// network such as Tailscale, not to the site running the proxy, and allowing
// them by default would open the proxy to strangers behind the same carrier
// NAT. List it in an allow file where it is wanted.
var defaultRanges = []string{
	"127.0.0.0/8",    // IPv4 loopback (RFC 1122 §3.2.1.3)
	"10.0.0.0/8",     // RFC 1918
	"172.16.0.0/12",  // RFC 1918
	"192.168.0.0/16", // RFC 1918
	"169.254.0.0/16", // IPv4 link-local (RFC 3927)
	"::1/128",        // IPv6 loopback
	"fc00::/7",       // IPv6 unique local (RFC 4193)
	"fe80::/10",      // IPv6 link-local (RFC 4291 §2.5.6)
}

// defaultAllowed is the read-only set ClientPolicy uses when Allow is nil.
var defaultAllowed = DefaultAllowed()

// DefaultAllowed returns a new set holding loopback, private and link-local
// ranges: 127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16,
// 169.254.0.0/16, ::1, fc00::/7 and fe80::/10. CGNAT space (100.64.0.0/10) is
// not included; see the comment on defaultRanges for why.
func DefaultAllowed() *PrefixSet {
	s := new(PrefixSet)
	for _, r := range defaultRanges {
		s.Insert(netip.MustParsePrefix(r))
	}
	return s
}

// ClientPolicy decides which client addresses may use the proxy.
type ClientPolicy struct {
	// Allow lists the permitted clients. If nil, DefaultAllowed is used.
	Allow *PrefixSet
	// Deny lists clients refused even when Allow holds them. If nil, none.
	Deny *PrefixSet
}

// Permit reports whether a client at addr may use the proxy: it must be in
// Allow (or the default ranges) and not in Deny. It does not allocate and is
// safe for concurrent use.
func (p *ClientPolicy) Permit(addr netip.Addr) bool {
	allow := p.Allow
	if allow == nil {
		allow = defaultAllowed
	}
	return allow.Contains(addr) && !p.Deny.Contains(addr)
}

// LoadPrefixFile reads an address list: one IP address or CIDR prefix per
// line, with blank lines ignored and everything from a '#' to the end of the
// line taken as a comment. A prefix with host bits set is masked (10.1.2.3/8
// means 10.0.0.0/8). The first bad line fails the load with an error naming
// path:line and the line's text, wrapping ErrPrefix.
func LoadPrefixFile(path string) (*PrefixSet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("acl: %w", err)
	}
	s := new(PrefixSet)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		p, ok := parsePrefix(text)
		if !ok {
			return nil, fmt.Errorf("%s:%d: %q: %w", path, line, snippet(text), ErrPrefix)
		}
		s.Insert(p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("acl: %s: %w", path, err)
	}
	return s, nil
}

// parsePrefix parses an address or a CIDR prefix without a zone. A bare
// address becomes a single-host prefix.
func parsePrefix(text string) (netip.Prefix, bool) {
	if strings.IndexByte(text, '/') >= 0 {
		p, err := netip.ParsePrefix(text)
		return p.Masked(), err == nil
	}
	a, err := netip.ParseAddr(text)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}

// snippet bounds s for quoting in an error.
func snippet(s string) string {
	if len(s) > maxSnippet {
		return s[:maxSnippet] + "..."
	}
	return s
}
