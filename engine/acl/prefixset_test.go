package acl

import (
	"math/rand/v2"
	"net/netip"
	"strconv"
	"testing"
)

func setOf(t testing.TB, prefixes ...string) *PrefixSet {
	t.Helper()
	s := new(PrefixSet)
	for _, p := range prefixes {
		s.Insert(netip.MustParsePrefix(p))
	}
	return s
}

func TestPrefixSetContains(t *testing.T) {
	s := setOf(t,
		"10.0.0.0/8", "192.168.1.0/24", "192.168.1.128/25", "203.0.113.7/32",
		"2001:db8::/32", "2001:db8:1::/48", "fe80::1/128", "::ffff:198.51.100.0/120",
	)
	tests := []struct {
		addr string
		want bool
	}{
		{"10.0.0.0", true},
		{"10.255.255.255", true},
		{"11.0.0.0", false},
		{"9.255.255.255", false},
		{"192.168.1.1", true},
		{"192.168.1.200", true},
		{"192.168.2.1", false},
		{"203.0.113.7", true},
		{"203.0.113.6", false},
		{"198.51.100.9", true},     // inserted as mapped, found as IPv4
		{"::ffff:10.1.2.3", true},  // mapped address folded to IPv4
		{"::ffff:11.1.2.3", false}, // mapped, not covered
		{"::a00:1", false},         // IPv4-compatible form is not IPv4
		{"2001:db8:ffff::1", true}, // in the /32
		{"2001:db9::", false},      // just past it
		{"fe80::1", true},          // exact host
		{"fe80::1%eth0", true},     // zone ignored
		{"fe80::2", false},         // neighbour of a /128
		{"0.0.0.0", false},         // nothing at the bottom
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := s.Contains(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("Contains(%q): got %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
}

func TestPrefixSetEdges(t *testing.T) {
	tests := []struct {
		name     string
		prefixes []string
		addr     string
		want     bool
	}{
		{"empty", nil, "10.0.0.1", false},
		{"v4 default route", []string{"0.0.0.0/0"}, "8.8.8.8", true},
		{"v4 default route is not v6", []string{"0.0.0.0/0"}, "2001:db8::1", false},
		{"v6 default route", []string{"::/0"}, "2001:db8::1", true},
		{"shorter replaces subtree", []string{"10.1.0.0/16", "10.2.0.0/16", "10.0.0.0/8"}, "10.3.0.1", true},
		{"longer under terminal ignored", []string{"10.0.0.0/8", "10.1.0.0/16"}, "10.200.0.1", true},
		{"host bits masked", []string{"10.1.2.3/8"}, "10.9.9.9", true},
		{"same prefix twice", []string{"10.0.0.0/8", "10.0.0.0/8"}, "10.0.0.1", true},
		{"branch becomes terminal", []string{"10.1.0.0/16", "10.2.0.0/16", "10.0.0.0/14"}, "10.3.0.1", true},
		{"mapped short prefix stays v6", []string{"::ffff:0:0/95"}, "::fffe:1:2", true},
		{"folded address skips v6 prefixes", []string{"::/0"}, "::ffff:1.2.3.4", false},
		{"v6 full length sibling", []string{"2001:db8::1/128", "2001:db8::2/128"}, "2001:db8::3", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := setOf(t, tt.prefixes...)
			if got := s.Contains(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("Contains(%q): got %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
	var nilSet *PrefixSet
	if nilSet.Contains(netip.MustParseAddr("10.0.0.1")) || nilSet.Len() != 0 {
		t.Errorf("nil set: got a member or a length, want empty")
	}
}

// randomPrefixes returns n random prefixes, three IPv4 to one IPv6, with
// lengths spread over the ranges seen in real block lists (IPv4 /16–/32,
// IPv6 /32–/128).
func randomPrefixes(r *rand.Rand, n int) []netip.Prefix {
	out := make([]netip.Prefix, 0, n)
	for len(out) < n {
		if r.IntN(4) > 0 {
			var b [4]byte
			u := r.Uint32()
			b[0], b[1], b[2], b[3] = byte(u>>24), byte(u>>16), byte(u>>8), byte(u)
			out = append(out, netip.PrefixFrom(netip.AddrFrom4(b), 16+r.IntN(17)).Masked())
			continue
		}
		var b [16]byte
		hi, lo := r.Uint64(), r.Uint64()
		for i := range 8 {
			b[i], b[8+i] = byte(hi>>(56-8*i)), byte(lo>>(56-8*i))
		}
		out = append(out, netip.PrefixFrom(netip.AddrFrom16(b), 32+r.IntN(97)).Masked())
	}
	return out
}

// randomAddr returns an address inside p half of the time, elsewhere at random
// otherwise.
func randomAddr(r *rand.Rand, prefixes []netip.Prefix) netip.Addr {
	p := prefixes[r.IntN(len(prefixes))]
	b := p.Addr().AsSlice()
	start := 0
	if r.IntN(2) == 0 {
		start = p.Bits() // keep the prefix, randomise the host part
	}
	for i := start; i < len(b)*8; i++ {
		mask := byte(0x80 >> (i % 8))
		if r.IntN(2) == 0 {
			b[i/8] ^= mask
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func linearContains(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// TestPrefixSetMatchesLinearScan checks the trie against the obvious linear
// scan on random sets of several sizes.
func TestPrefixSetMatchesLinearScan(t *testing.T) {
	for _, n := range []int{1, 2, 10, 300, 5000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(n), 7))
			prefixes := randomPrefixes(r, n)
			// Short prefixes before and after the bulk exercise covering
			// whole blocks of a large set, and being made redundant.
			prefixes = append([]netip.Prefix{netip.MustParsePrefix("77.0.0.0/9")}, prefixes...)
			prefixes = append(prefixes, netip.MustParsePrefix("150.0.0.0/7"), netip.MustParsePrefix("2c00::/14"))
			s := new(PrefixSet)
			for _, p := range prefixes {
				s.Insert(p)
			}
			for range 4000 {
				a := randomAddr(r, prefixes)
				if got, want := s.Contains(a), linearContains(prefixes, a); got != want {
					t.Fatalf("Contains(%s): got %v, want %v", a, got, want)
				}
			}
		})
	}
}

func TestPrefixSetContainsAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	prefixes := randomPrefixes(r, 1000)
	s := new(PrefixSet)
	for _, p := range prefixes {
		s.Insert(p)
	}
	v4, v6 := netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("2001:db8::1")
	allocs := testing.AllocsPerRun(1000, func() {
		s.Contains(v4)
		s.Contains(v6)
	})
	if allocs != 0 {
		t.Errorf("Contains: got %v allocations, want 0", allocs)
	}
}

// BenchmarkContains compares the trie with a linear scan over the same
// prefixes, at sizes from 10 to 100,000.
func BenchmarkContains(b *testing.B) {
	for _, n := range []int{10, 1000, 100000} {
		r := rand.New(rand.NewPCG(42, uint64(n)))
		prefixes := randomPrefixes(r, n)
		s := new(PrefixSet)
		for _, p := range prefixes {
			s.Insert(p)
		}
		addrs := make([]netip.Addr, 1024)
		for i := range addrs {
			addrs[i] = randomAddr(r, prefixes)
		}
		b.Run("trie/n="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				s.Contains(addrs[i&1023])
			}
		})
		b.Run("linear/n="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				linearContains(prefixes, addrs[i&1023])
			}
		})
	}
}
