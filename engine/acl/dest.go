package acl

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// Destinations is the fixed part of the destination policy, checked on every
// address the proxy connects to for a client, after name resolution (Squid's
// default `http_access deny to_localhost`):
//
//   - loopback (127.0.0.0/8, ::1), unspecified (0.0.0.0/8, ::) and their
//     IPv4-mapped forms are refused unless AllowLocal is set;
//   - the proxy's own listen and admin ports on any address of this machine
//     are always refused, AllowLocal or not: a request must never reach the
//     admin listener (metrics, accounting, reload) through the proxy port,
//     nor loop back into the proxy.
//
// A Destinations is read-only once built and safe for concurrent use.
type Destinations struct {
	allowLocal bool
	selfPorts  []uint16     // ports of the proxy's own listeners
	machine    []netip.Addr // this machine's interface addresses
}

// NewDestinations builds the policy. self lists the proxy's own listener
// addresses (host:port, as bound; an empty or wildcard host means every
// address). A destination is the proxy's own when its port is one of
// these ports and its address is loopback, unspecified, or one of machine,
// the addresses of this machine's interfaces: any of those reaches a
// wildcard listener, and comparing the port alone on local addresses
// covers a listener bound to one of them too.
func NewDestinations(allowLocal bool, self []string, machine []netip.Addr) (*Destinations, error) {
	d := &Destinations{allowLocal: allowLocal}
	for _, a := range self {
		_, p, err := net.SplitHostPort(a)
		if err != nil {
			return nil, fmt.Errorf("acl: own address %q: %w", a, err)
		}
		port, err := strconv.Atoi(p)
		if err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("acl: own address %q: %w", a, ErrPort)
		}
		d.selfPorts = append(d.selfPorts, uint16(port))
	}
	for _, a := range machine {
		d.machine = append(d.machine, a.Unmap())
	}
	return d, nil
}

// MachineAddrs returns the addresses of this machine's interfaces, for
// NewDestinations; an error reading them yields none (loopback and
// unspecified addresses are covered without them).
func MachineAddrs() []netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr().Unmap())
		}
	}
	return out
}

// AllowLocal reports whether loopback destinations are allowed.
func (d *Destinations) AllowLocal() bool { return d.allowLocal }

// IsLocal reports whether a is loopback or unspecified, in IPv4, IPv6 or
// IPv4-mapped form: an address that reaches this machine whatever its
// interfaces.
func IsLocal(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsLoopback() || a.IsUnspecified() {
		return true
	}
	return a.Is4() && a.As4()[0] == 0 // 0.0.0.0/8, "this network" (RFC 1122 §3.2.1.3)
}

// Check returns nil when the proxy may connect to a:port for a client,
// ErrOwnAddress or ErrLocalDestination otherwise. It does not allocate.
func (d *Destinations) Check(a netip.Addr, port int) error {
	a = a.Unmap()
	local := IsLocal(a)
	if d.isSelfPort(port) && (local || d.isMachine(a)) {
		return ErrOwnAddress
	}
	if local && !d.allowLocal {
		return ErrLocalDestination
	}
	return nil
}

// CheckHost checks a request host before any name is resolved, on the
// event loop: a host that is an address in any spelling (HostAddr), or a
// localhost name, is checked as the address it names; for any other name
// decided is false and the check waits for the address the proxy resolves
// and connects to. It does not allocate.
func (d *Destinations) CheckHost(host []byte, port int) (err error, decided bool) {
	if a, ok := HostAddr(host); ok {
		return d.Check(a, port), true
	}
	if IsLocalhostName(host) {
		return d.Check(netip.AddrFrom4([4]byte{127, 0, 0, 1}), port), true
	}
	return nil, false
}

func (d *Destinations) isSelfPort(port int) bool {
	for _, p := range d.selfPorts {
		if int(p) == port {
			return true
		}
	}
	return false
}

func (d *Destinations) isMachine(a netip.Addr) bool {
	for _, m := range d.machine {
		if m == a {
			return true
		}
	}
	return false
}
