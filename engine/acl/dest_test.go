package acl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// Issue 11: every spelling of an address is read as the address it names.
func TestHostAddr(t *testing.T) {
	for _, tc := range []struct {
		host string
		want string // "" for a host name
	}{
		{"127.0.0.1", "127.0.0.1"},
		{"127.0.0.1.", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"2130706433.", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"0X7F000001", "127.0.0.1"},
		{"017700000001", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"0x7f.0.0.1", "127.0.0.1"},
		{"0x7f.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"127.000.000.001", "127.0.0.1"},
		{"0", "0.0.0.0"},
		{"0.0.0.0", "0.0.0.0"},
		{"0x", "0.0.0.0"},
		{"10.1.65535", "10.1.255.255"},
		{"[::1]", "::1"},
		{"::1", "::1"},
		{"[::]", "::"},
		{"[::ffff:127.0.0.1]", "127.0.0.1"},
		{"[::ffff:7f00:1]", "127.0.0.1"},
		{"[0:0:0:0:0:ffff:127.0.0.1]", "127.0.0.1"},
		{"[fe80::1%25eth0]", "fe80::1"},
		{"example.com", ""},
		{"localhost", ""},
		{"1.2.3.4.5", ""},
		{"256.0.0.1", ""},
		{"1.256.0.1", ""},
		{"1.2.65536", ""},
		{"4294967296", ""},
		{"08.0.0.1", ""}, // 8 is not an octal digit
		{"0xg.0.0.1", ""},
		{"1..2", ""},
		{".1.2.3", ""},
		{"1.2.3.4..", ""},
		{"1e3", ""},
		{"cafe", ""},
		{"", ""},
	} {
		t.Run(tc.host, func(t *testing.T) {
			a, ok := HostAddr([]byte(tc.host))
			got := ""
			if ok {
				got = a.String()
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestIsLocalhostName(t *testing.T) {
	for _, tc := range []struct {
		host string
		want bool
	}{
		{"localhost", true}, {"LocalHost", true}, {"localhost.", true}, {"a.localhost", true},
		{"a.b.LOCALHOST.", true}, {"notlocalhost", false}, {"localhost.example", false},
		{"localhos", false}, {"", false}, {".localhost", true},
	} {
		if got := IsLocalhostName([]byte(tc.host)); got != tc.want {
			t.Errorf("%q: got %v, want %v", tc.host, got, tc.want)
		}
	}
}

func mustDestinations(t *testing.T, allowLocal bool, self []string, machine ...string) *Destinations {
	t.Helper()
	var m []netip.Addr
	for _, s := range machine {
		m = append(m, netip.MustParseAddr(s))
	}
	d, err := NewDestinations(allowLocal, self, m)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Issue 11: loopback and unspecified destinations are refused by default;
// the proxy's own ports on any local address always are.
func TestDestinationsCheck(t *testing.T) {
	self := []string{"127.0.0.1:3128", "[::]:9128"}
	strict := mustDestinations(t, false, self, "192.0.2.7")
	open := mustDestinations(t, true, self, "192.0.2.7")
	for _, tc := range []struct {
		addr         string
		port         int
		strict, open error
	}{
		{"127.0.0.1", 80, ErrLocalDestination, nil},
		{"127.255.0.9", 8080, ErrLocalDestination, nil},
		{"::1", 80, ErrLocalDestination, nil},
		{"::ffff:127.0.0.1", 80, ErrLocalDestination, nil},
		{"0.0.0.0", 80, ErrLocalDestination, nil},
		{"0.1.2.3", 80, ErrLocalDestination, nil},
		{"::", 80, ErrLocalDestination, nil},
		{"127.0.0.1", 3128, ErrOwnAddress, ErrOwnAddress},
		{"127.0.0.2", 9128, ErrOwnAddress, ErrOwnAddress},
		{"0.0.0.0", 9128, ErrOwnAddress, ErrOwnAddress},
		{"::", 9128, ErrOwnAddress, ErrOwnAddress},
		{"::ffff:127.0.0.1", 9128, ErrOwnAddress, ErrOwnAddress},
		{"192.0.2.7", 9128, ErrOwnAddress, ErrOwnAddress}, // this machine's address, wildcard admin
		{"192.0.2.7", 80, nil, nil},
		{"192.0.2.8", 9128, nil, nil}, // another machine
		{"93.184.216.34", 443, nil, nil},
		{"2001:db8::1", 80, nil, nil},
	} {
		a := netip.MustParseAddr(tc.addr)
		if got := strict.Check(a, tc.port); !errors.Is(got, tc.strict) || (tc.strict == nil && got != nil) {
			t.Errorf("default %s port %d: got %v, want %v", tc.addr, tc.port, got, tc.strict)
		}
		if got := open.Check(a, tc.port); !errors.Is(got, tc.open) || (tc.open == nil && got != nil) {
			t.Errorf("allow_local %s port %d: got %v, want %v", tc.addr, tc.port, got, tc.open)
		}
	}
}

func TestDestinationsCheckHost(t *testing.T) {
	d := mustDestinations(t, false, []string{"127.0.0.1:3128"})
	for _, tc := range []struct {
		host    string
		err     error
		decided bool
	}{
		{"127.1", ErrLocalDestination, true},
		{"localhost.", ErrLocalDestination, true},
		{"[::ffff:127.0.0.1]", ErrLocalDestination, true},
		{"example.com", nil, false},
		{"93.184.216.34", nil, true},
	} {
		err, decided := d.CheckHost([]byte(tc.host), 80)
		if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) || decided != tc.decided {
			t.Errorf("%q: got %v, %v, want %v, %v", tc.host, err, decided, tc.err, tc.decided)
		}
	}
	host := []byte("0x7f.1")
	if n := testing.AllocsPerRun(100, func() { _, _ = d.CheckHost(host, 80) }); n != 0 {
		t.Errorf("CheckHost allocates %v times", n)
	}
}

func TestParsePorts(t *testing.T) {
	s, err := ParsePorts(DefaultSafePorts)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		port int
		want bool
	}{
		{80, true}, {21, true}, {443, true}, {70, true}, {210, true}, {280, true}, {488, true},
		{591, true}, {777, true}, {1025, true}, {65535, true}, {8080, true},
		{25, false}, {22, false}, {110, false}, {1024, false}, {0, false}, {65536, false}, {-1, false},
	} {
		if got := s.Contains(tc.port); got != tc.want {
			t.Errorf("port %d: got %v, want %v", tc.port, got, tc.want)
		}
	}
	for _, bad := range []string{"0", "65536", "a", "10-5", "1-", "-5", ""} {
		if _, err := ParsePorts([]string{bad}); !errors.Is(err, ErrPort) {
			t.Errorf("%q: got %v, want ErrPort", bad, err)
		}
	}
}

// Issue 11: a dst rule decides on the address a name resolves to, and an
// unspecified address matches a rule on loopback.
func TestDecideDst(t *testing.T) {
	rs, err := Compile([]RuleConfig{
		{Action: "deny", Name: "no-loopback", Dst: []string{"127.0.0.0/8"}},
		{Action: "allow"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		host string
		addr string
		want Verdict
		rule string
	}{
		{"127.0.0.1", "", Deny, "no-loopback"},
		{"0.0.0.0", "", Deny, "no-loopback"},
		{"0x7f.1", "", Deny, "no-loopback"},
		{"[::ffff:127.0.0.1]", "", Deny, "no-loopback"},
		{"93.184.216.34", "", Allow, "rules[1]"},
		{"example.com", "", NeedAddr, "no-loopback"},
		{"example.com", "127.0.0.1", Deny, "no-loopback"},
		{"example.com", "::ffff:127.0.0.1", Deny, "no-loopback"},
		{"example.com", "93.184.216.34", Allow, "rules[1]"},
	} {
		req := &Request{Method: []byte("GET"), URL: []byte("http://" + tc.host + "/"), Host: []byte(tc.host)}
		if tc.addr != "" {
			req.Addr = netip.MustParseAddr(tc.addr)
		}
		v, rule := rs.Decide(req)
		if v != tc.want || rule != tc.rule {
			t.Errorf("%s (%s): got %d %q, want %d %q", tc.host, tc.addr, v, rule, tc.want, tc.rule)
		}
	}
	// A rule before the dst rule decides without resolving; Check keeps its
	// old reading of a name (dst does not match it).
	rs, _ = Compile([]RuleConfig{
		{Action: "allow", Domains: []string{"example.com"}},
		{Action: "deny", Dst: []string{"10.0.0.0/8"}},
		{Action: "allow"},
	})
	if v, _ := rs.Decide(&Request{Host: []byte("example.com")}); v != Allow {
		t.Errorf("domain rule first: got %d, want Allow", v)
	}
	if v, _ := rs.Decide(&Request{Host: []byte("intranet")}); v != NeedAddr {
		t.Errorf("name reaching a dst rule: got %d, want NeedAddr", v)
	}
	if ok, _ := rs.Check(&Request{Host: []byte("intranet")}); !ok {
		t.Error("Check on an unresolved name: dst must not match")
	}
}

// fakeLookup answers names from a table and counts the lookups.
type fakeLookup struct {
	answers map[string][]string
	calls   atomic.Int64
}

func (f *fakeLookup) lookup(_ context.Context, host string) ([]netip.Addr, error) {
	f.calls.Add(1)
	var out []netip.Addr
	for _, s := range f.answers[host] {
		out = append(out, netip.MustParseAddr(s))
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return out, nil
}

// Issue 11: the dialer connects only to a checked address, resolving once.
func TestDialerResolve(t *testing.T) {
	f := &fakeLookup{answers: map[string][]string{
		"loop.test":  {"127.0.0.1"},
		"mixed.test": {"::1", "127.0.0.1", "198.51.100.1"},
		"admin.test": {"10.9.9.9"},
	}}
	d := &Dialer{Resolver: &Resolver{Lookup: f.lookup}}
	d.SetPolicy(mustDestinations(t, false, []string{"127.0.0.1:9128"}, "10.9.9.9"))
	ctx := context.Background()
	for _, tc := range []struct {
		hostport string
		want     string
		err      error
	}{
		{"loop.test:80", "", ErrLocalDestination},
		{"loop.test.:80", "", ErrLocalDestination},
		{"mixed.test:80", "198.51.100.1:80", nil},
		{"admin.test:9128", "", ErrOwnAddress},
		{"2130706433:80", "", ErrLocalDestination},
		{"[::ffff:127.0.0.1]:80", "", ErrLocalDestination},
		{"198.51.100.1:8080", "198.51.100.1:8080", nil},
	} {
		addrs, err := d.Resolve(ctx, tc.hostport)
		got := ""
		for _, a := range addrs {
			got += a.String()
		}
		if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
			t.Errorf("%s: got %q, %v, want %q, %v", tc.hostport, got, err, tc.want, tc.err)
		}
	}
	if _, err := d.Resolve(ctx, "nowhere.test:80"); !errors.As(err, new(*net.DNSError)) {
		t.Errorf("unknown name: got %v, want a DNS error", err)
	}
	// With loopback allowed every candidate is kept, IPv4 first.
	open := &Dialer{Resolver: d.Resolver}
	open.SetPolicy(mustDestinations(t, true, nil))
	addrs, err := open.Resolve(ctx, "mixed.test:80")
	if got := fmt.Sprint(addrs); err != nil || got != "[127.0.0.1:80 198.51.100.1:80 [::1]:80]" {
		t.Errorf("mixed.test with allow_local: got %s, %v", got, err)
	}
	// Answers are reused: loop.test was looked up once for two dials
	// (with and without its trailing dot).
	before := f.calls.Load()
	_, _ = d.Resolve(ctx, "loop.test:80")
	if f.calls.Load() != before {
		t.Error("a fresh answer was looked up again")
	}
}

// Issue 11: DNS rebinding. A name that first resolves to an allowed
// address and then to loopback is refused once it points at loopback;
// each dial connects to exactly the address its check passed.
func TestDialerRebinding(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	var answer atomic.Value
	answer.Store("127.0.0.1")
	var dialed []string
	d := &Dialer{
		Resolver: &Resolver{TTL: time.Nanosecond, Lookup: func(context.Context, string) ([]netip.Addr, error) {
			return []netip.Addr{netip.MustParseAddr(answer.Load().(string))}, nil
		}},
		Dial: func(addr string, timeout time.Duration) (net.Conn, error) {
			dialed = append(dialed, addr)
			return net.DialTimeout("tcp", addr, timeout)
		},
	}
	// Loopback allowed: the name works and connects where it resolved.
	d.SetPolicy(mustDestinations(t, true, nil))
	c, err := d.DialTimeout("rebind.test:"+strconv.Itoa(port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	// Loopback refused: the same name, same answer, is refused at dial.
	d.SetPolicy(mustDestinations(t, false, nil))
	if _, err := d.DialTimeout("rebind.test:"+strconv.Itoa(port), 5*time.Second); !errors.Is(err, ErrLocalDestination) {
		t.Errorf("rebound to loopback: got %v, want ErrLocalDestination", err)
	}
	if len(dialed) != 1 || dialed[0] != "127.0.0.1:"+strconv.Itoa(port) {
		t.Errorf("dialed %q, want only the checked address once", dialed)
	}
}
