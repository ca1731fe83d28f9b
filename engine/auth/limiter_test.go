package auth

import (
	"net/netip"
	"testing"
	"time"
)

// Issue 11: failed authentications are limited per client address by a
// token bucket; other addresses keep their own.
func TestLimiter(t *testing.T) {
	l := NewLimiter(3, 30*time.Second) // one attempt back every 10 s
	now := time.Unix(1_700_000_000, 0)
	l.now = func() time.Time { return now }
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")

	for i := range 3 {
		if !l.Take(a) {
			t.Fatalf("take %d: got refused, want allowed", i)
		}
	}
	if l.Take(a) {
		t.Fatal("fourth take: got allowed, want refused")
	}
	if !l.Take(b) {
		t.Fatal("other address: got refused, want allowed")
	}
	if got := l.Take(netip.MustParseAddr("::ffff:192.0.2.1")); got {
		t.Error("IPv4-mapped spelling: got allowed, want the same bucket as 192.0.2.1")
	}
	now = now.Add(10 * time.Second)
	if !l.Take(a) {
		t.Fatal("after 10 s: got refused, want one attempt back")
	}
	if l.Take(a) {
		t.Fatal("after 10 s, second take: got allowed, want refused")
	}
	l.Refund(a)
	if !l.Take(a) {
		t.Fatal("after a refund: got refused, want allowed")
	}

	// IPv6 addresses share their /64.
	x, y := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::ffff:2")
	for range 3 {
		l.Take(x)
	}
	if l.Take(y) {
		t.Error("same /64: got allowed, want refused")
	}
	if !l.Take(netip.MustParseAddr("2001:db8:0:1::1")) {
		t.Error("other /64: got refused, want allowed")
	}

	// A bucket that refilled is forgotten on refund.
	now = now.Add(time.Hour)
	l.Take(b)
	l.Refund(b)
	if _, ok := l.m[limitKey(b)]; ok {
		t.Error("full bucket still tracked after a refund")
	}
}

// The table never holds more than MaxTrackedClients addresses, and a full
// table forgets refilled buckets, then buckets that still have attempts,
// before an address that is being refused.
func TestLimiterBounded(t *testing.T) {
	l := NewLimiter(2, time.Minute)
	now := time.Unix(1_700_000_000, 0)
	l.now = func() time.Time { return now }
	hot := netip.MustParseAddr("198.51.100.1")
	l.Take(hot)
	l.Take(hot)
	now = now.Add(time.Second)
	for i := range MaxTrackedClients + 1000 {
		l.Take(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
		if n := l.Tracked(); n > MaxTrackedClients {
			t.Fatalf("tracked %d addresses, want at most %d", n, MaxTrackedClients)
		}
	}
	if l.Take(hot) {
		t.Error("refused address after the table filled: got allowed, want refused")
	}
}
