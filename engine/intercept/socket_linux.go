package intercept

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// soOriginalDst is SO_ORIGINAL_DST (linux/netfilter_ipv4.h) and, with the
// same number at SOL_IPV6, IP6T_SO_ORIGINAL_DST.
const soOriginalDst = 80

// OriginalDst returns the destination a NAT-redirected connection was
// addressed to before the redirect, read from the accepted socket fd. It is
// one getsockopt: cheap enough for an event loop.
func OriginalDst(fd int, ipv6 bool) (netip.AddrPort, error) {
	level := unix.SOL_IP
	if ipv6 {
		level = unix.SOL_IPV6
	}
	// The answer is a struct sockaddr_in or sockaddr_in6. It is read
	// through getsockopt wrappers whose buffers are large enough and that
	// keep every byte: GetsockoptString would cut it at the first zero
	// byte, which the little-endian address family always has.
	if !ipv6 {
		m, err := unix.GetsockoptIPv6Mreq(fd, level, soOriginalDst) // 20 bytes ≥ sockaddr_in's 16
		if err != nil {
			return netip.AddrPort{}, ErrNoOriginalDst
		}
		b := m.Multiaddr[:]
		if binary.NativeEndian.Uint16(b[0:2]) != unix.AF_INET {
			return netip.AddrPort{}, ErrNoOriginalDst
		}
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), binary.BigEndian.Uint16(b[2:4])), nil
	}
	info, err := unix.GetsockoptIPv6MTUInfo(fd, level, soOriginalDst) // a sockaddr_in6 and a uint32
	if err != nil || info.Addr.Family != unix.AF_INET6 {
		return netip.AddrPort{}, ErrNoOriginalDst
	}
	var port [2]byte // the port is in network order inside a host-order field
	binary.NativeEndian.PutUint16(port[:], info.Addr.Port)
	return netip.AddrPortFrom(netip.AddrFrom16(info.Addr.Addr).Unmap(), binary.BigEndian.Uint16(port[:])), nil
}

// ListenTransparent listens on addr with IP_TRANSPARENT, so that a TPROXY
// rule can deliver connections addressed to any destination to it; each
// accepted connection's local address is the client's original destination.
func ListenTransparent(ctx context.Context, addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(network, _ string, c syscall.RawConn) error {
		return setTransparent(network, c)
	}}
	return lc.Listen(ctx, "tcp", addr)
}

// DialTransparent connects to dst from the address from (port chosen by the
// kernel), which need not be local: with IP_TRANSPARENT the origin sees the
// client's own address, as Squid's tproxy does. The host's policy routing
// must deliver the origin's answers back to this socket.
func DialTransparent(ctx context.Context, from netip.Addr, dst netip.AddrPort, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{
		Timeout:   timeout,
		LocalAddr: &net.TCPAddr{IP: from.AsSlice()},
		Control: func(network, _ string, c syscall.RawConn) error {
			return setTransparent(network, c)
		},
	}
	return d.DialContext(ctx, "tcp", dst.String())
}

func setTransparent(network string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		if network == "tcp6" {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_IPV6, unix.IPV6_TRANSPARENT, 1)
			return
		}
		serr = unix.SetsockoptInt(int(fd), unix.SOL_IP, unix.IP_TRANSPARENT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}
