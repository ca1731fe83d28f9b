package acl

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// PrefixSet is a set of IPv4 and IPv6 prefixes that answers whether an
// address lies in any of them.
//
// Insert is not safe to call concurrently with anything else; once built, a
// PrefixSet is read-only and Contains may be called from any number of
// goroutines. The zero value is an empty set ready to use.
type PrefixSet struct {
	v4, v6 trie
	n      int // number of Insert calls, for Len
}

// Insert adds p to the set. The prefix is masked to its length first, so
// 10.1.2.3/8 is 10.0.0.0/8. An IPv4-mapped IPv6 prefix of length 96 or more
// (::ffff:10.0.0.0/104) is stored as the IPv4 prefix it maps (10.0.0.0/8). An
// invalid prefix is ignored.
func (s *PrefixSet) Insert(p netip.Prefix) {
	if !p.IsValid() {
		return
	}
	a, n := p.Addr().WithZone(""), p.Bits()
	if a.Is4In6() {
		if n < 96 {
			s.v6.insert(keyOf(a).mask(uint8(n)), uint8(n))
			s.n++
			return
		}
		a, n = a.Unmap(), n-96
	}
	if a.Is4() {
		s.v4.insert(keyOf(a).mask(uint8(n)), uint8(n))
	} else {
		s.v6.insert(keyOf(a).mask(uint8(n)), uint8(n))
	}
	s.n++
}

// Contains reports whether a lies in a prefix of the set. An IPv4-mapped IPv6
// address is looked up as IPv4; a zone is ignored. It does not allocate.
func (s *PrefixSet) Contains(a netip.Addr) bool {
	if s == nil || !a.IsValid() {
		return false
	}
	a = a.Unmap()
	if a.Is4() {
		return s.v4.contains(keyOf(a))
	}
	return s.v6.contains(keyOf(a))
}

// Len returns the number of prefixes inserted, including any that an earlier
// or later shorter prefix made redundant.
func (s *PrefixSet) Len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// key holds an address as 128 bits, most significant first. An IPv4 address
// occupies the top 32 bits of hi.
type key struct{ hi, lo uint64 }

func keyOf(a netip.Addr) key {
	if a.Is4() {
		b := a.As4()
		return key{hi: uint64(binary.BigEndian.Uint32(b[:])) << 32}
	}
	b := a.As16()
	return key{hi: binary.BigEndian.Uint64(b[:8]), lo: binary.BigEndian.Uint64(b[8:])}
}

// bit returns bit i of k (0 is the most significant) as 0 or 1.
func (k key) bit(i uint8) uint8 {
	if i < 64 {
		return uint8(k.hi >> (63 - i) & 1)
	}
	return uint8(k.lo >> (127 - i) & 1)
}

// mask clears every bit of k from bit n on.
func (k key) mask(n uint8) key {
	switch {
	case n == 0:
		return key{}
	case n < 64:
		return key{hi: k.hi &^ (1<<(64-n) - 1)}
	case n == 64:
		return key{hi: k.hi}
	case n < 128:
		return key{hi: k.hi, lo: k.lo &^ (1<<(128-n) - 1)}
	}
	return k
}

// common returns how many leading bits a and b share.
func common(a, b key) uint8 {
	if x := a.hi ^ b.hi; x != 0 {
		return uint8(bits.LeadingZeros64(x))
	}
	return 64 + uint8(bits.LeadingZeros64(a.lo^b.lo))
}
