package intercept

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"
)

// A connection no NAT rule redirected has no original destination.
func TestOriginalDstWithoutRedirect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	raw, err := s.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var got error
	_ = raw.Control(func(fd uintptr) { _, got = OriginalDst(int(fd), false) })
	if got != ErrNoOriginalDst {
		t.Errorf("got %v, want ErrNoOriginalDst", got)
	}
}

// The transparent listener and dialer set IP_TRANSPARENT (root, as CI is)
// and still work as plain sockets on loopback.
func TestTransparentSocketsOnLoopback(t *testing.T) {
	ln, err := ListenTransparent(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatalf("ListenTransparent (needs CAP_NET_ADMIN): %v", err)
	}
	defer ln.Close()
	dst := netip.MustParseAddrPort(ln.Addr().String())
	c, err := DialTransparent(context.Background(), netip.MustParseAddr("127.0.0.3"), dst, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := netip.MustParseAddrPort(s.RemoteAddr().String()).Addr(); got != netip.MustParseAddr("127.0.0.3") {
		t.Errorf("peer address: got %v, want 127.0.0.3", got)
	}
}
