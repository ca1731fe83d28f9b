package acl

import "strings"

// maxHost is the longest host name a domain can match: 253 bytes of text
// (RFC 1035 §2.3.4) plus a trailing dot.
const maxHost = 254

// domainSet matches a host against a list of domains, each of which covers
// itself and every subdomain. The names are stored lower-case without a
// trailing dot; a lookup probes the map once per label suffix of the host, so
// its cost is O(labels) whatever the number of domains.
type domainSet map[string]struct{}

// hostChar marks the bytes accepted in a configured domain: letters, digits,
// hyphen and underscore (seen in real DNS names though not in RFC 952 host
// names). Upper case is folded before this check.
var hostChar = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['-'], t['_'] = true, true
	return t
}()

// normalizeDomain lower-cases d and strips a trailing dot and a leading "."
// or "*." (both mean "this domain and its subdomains", as in Squid's
// dstdomain). It reports false for a name that is empty, too long, has an
// empty label or holds a byte outside hostChar.
func normalizeDomain(d string) (string, bool) {
	d = strings.ToLower(strings.TrimSpace(d))
	d = strings.TrimSuffix(d, ".")
	d = strings.TrimPrefix(strings.TrimPrefix(d, "*"), ".")
	if d == "" || len(d) >= maxHost {
		return "", false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 {
			return "", false
		}
		for i := 0; i < len(label); i++ {
			if !hostChar[label[i]] {
				return "", false
			}
		}
	}
	return d, true
}

// match reports whether host, already lower-cased without a trailing dot,
// is one of the domains or a subdomain of one.
func (s domainSet) match(host []byte) bool {
	for i := 0; ; {
		if _, ok := s[string(host[i:])]; ok {
			return true
		}
		j := indexDot(host[i:])
		if j < 0 {
			return false
		}
		i += j + 1
	}
}

func indexDot(b []byte) int {
	for i, c := range b {
		if c == '.' {
			return i
		}
	}
	return -1
}

// lowerHost writes host lower-cased, without a trailing dot, into buf and
// returns the view of buf it filled. A host too long to be a domain name
// yields nil, which no domain matches.
func lowerHost(buf *[maxHost]byte, host []byte) []byte {
	if len(host) > 0 && host[len(host)-1] == '.' {
		host = host[:len(host)-1]
	}
	if len(host) == 0 || len(host) > len(buf) {
		return nil
	}
	for i, c := range host {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return buf[:len(host)]
}
