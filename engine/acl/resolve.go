package acl

import (
	"cmp"
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Resolver looks host names up and remembers the answers for TTL, so that
// the check of a destination and the connection to it use the same answer
// and a busy origin is not resolved on every dial. It is safe for
// concurrent use.
type Resolver struct {
	// Lookup resolves a host name. If nil, net.DefaultResolver.LookupNetIP
	// with network "ip" is used. Tests set it to answer names of their own.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	// TTL is how long an answer is reused. If zero, 30s is used.
	TTL time.Duration
	// MaxEntries bounds the remembered names; when full, all are dropped.
	// If zero, 65536 is used.
	MaxEntries int

	mu sync.Mutex // protects m
	m  map[string]resolved
}

type resolved struct {
	addrs   []netip.Addr
	expires time.Time
}

// LookupHost returns the addresses of host, from the cache while fresh.
// Failures are not cached.
func (r *Resolver) LookupHost(ctx context.Context, host string) ([]netip.Addr, error) {
	now := time.Now()
	r.mu.Lock()
	e, ok := r.m[host]
	r.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.addrs, nil
	}
	lookup := r.Lookup
	if lookup == nil {
		lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	addrs, err := lookup(ctx, host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	ttl, maxEntries := r.TTL, r.MaxEntries
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	if maxEntries <= 0 {
		maxEntries = 1 << 16
	}
	r.mu.Lock()
	if r.m == nil || len(r.m) >= maxEntries {
		r.m = make(map[string]resolved)
	}
	r.m[host] = resolved{addrs: addrs, expires: now.Add(ttl)}
	r.mu.Unlock()
	return addrs, nil
}

// Dialer connects to the destinations of client requests: it resolves the
// host once, checks every candidate address against the Destinations in
// force, and connects only to an address that passed. Because the check is
// on the address actually connected to, neither a name pointing at
// 127.0.0.1 nor DNS rebinding gets around it. It is safe for concurrent use.
type Dialer struct {
	// Resolver resolves host names; it must not be nil.
	Resolver *Resolver
	// Dial connects to an "ip:port" address. If nil, net.Dialer is used.
	Dial func(addr string, timeout time.Duration) (net.Conn, error)

	policy atomic.Pointer[Destinations]
}

// SetPolicy replaces the Destinations in force; a reload calls it.
func (d *Dialer) SetPolicy(p *Destinations) { d.policy.Store(p) }

// Policy returns the Destinations in force.
func (d *Dialer) Policy() *Destinations { return d.policy.Load() }

// Resolve resolves hostport ("host:port", "[v6]:port") and returns the
// candidate addresses the policy allows, IPv4 first. A host
// that is an IP address in any spelling (HostAddr) is not looked up. When
// no candidate is allowed the error is the refusal of the first one
// (ErrOwnAddress or ErrLocalDestination); a lookup failure is returned as
// the resolver's error.
func (d *Dialer) Resolve(ctx context.Context, hostport string) ([]netip.AddrPort, error) {
	host, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 1 || port > 65535 {
		return nil, &net.AddrError{Err: "invalid port", Addr: hostport}
	}
	var addrs []netip.Addr
	var one [1]netip.Addr
	if a, ok := HostAddr([]byte(host)); ok {
		one[0] = a
		addrs = one[:]
	} else {
		name := host
		if len(name) > 1 && name[len(name)-1] == '.' {
			name = name[:len(name)-1]
		}
		if addrs, err = d.Resolver.LookupHost(ctx, name); err != nil {
			return nil, err
		}
	}
	pol := d.policy.Load()
	var first error
	out := make([]netip.AddrPort, 0, len(addrs))
	for _, a := range addrs {
		a = a.Unmap()
		if pol != nil {
			if err := pol.Check(a, port); err != nil {
				if first == nil {
					first = err
				}
				continue
			}
		}
		out = append(out, netip.AddrPortFrom(a, uint16(port)))
	}
	// IPv4 first, in the resolver's order within each family: origins
	// were reached over IPv4 only before IPv6 candidates were tried, and a
	// host without IPv6 routes fails those fast.
	slices.SortStableFunc(out, func(a, b netip.AddrPort) int {
		return cmp.Compare(family(a), family(b))
	})
	if len(out) == 0 {
		if first == nil {
			first = &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
		return nil, first
	}
	return out, nil
}

// family orders IPv4 before IPv6.
func family(a netip.AddrPort) int {
	if a.Addr().Is4() {
		return 0
	}
	return 1
}

// DialTimeout resolves and checks hostport (Resolve), then connects to the
// allowed candidates in turn until one accepts, all within timeout. Its
// signature is fasthttp's DialFuncWithTimeout.
func (d *Dialer) DialTimeout(hostport string, timeout time.Duration) (net.Conn, error) {
	deadline := time.Now().Add(timeout)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	addrs, err := d.Resolve(ctx, hostport)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, &timeoutError{err}
		}
		return nil, err
	}
	return d.DialResolved(addrs, deadline)
}

// DialResolved connects to addrs, as Resolve returned them, in turn until
// one accepts or deadline passes; it returns the last error.
func (d *Dialer) DialResolved(addrs []netip.AddrPort, deadline time.Time) (net.Conn, error) {
	dial := d.Dial
	if dial == nil {
		dial = func(addr string, timeout time.Duration) (net.Conn, error) {
			return net.DialTimeout("tcp", addr, timeout)
		}
	}
	var last error
	for _, a := range addrs {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		c, err := dial(a.String(), left)
		if err == nil {
			return c, nil
		}
		last = err
	}
	if last == nil {
		last = &timeoutError{context.DeadlineExceeded}
	}
	return nil, last
}

// timeoutError marks a resolution that ran out of time as a timeout
// (net.Error), as a dial timeout is.
type timeoutError struct{ err error }

func (e *timeoutError) Error() string   { return "acl: resolving the destination: " + e.err.Error() }
func (e *timeoutError) Unwrap() error   { return e.err }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }
