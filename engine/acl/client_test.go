package acl

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadPrefixFile(t *testing.T) {
	path := writeFile(t, "allow.txt", `# office networks
192.0.2.0/24
  198.51.100.7   # the build host

2001:db8:42::/48
10.9.8.7/8
::ffff:203.0.113.0/120
`)
	s, err := LoadPrefixFile(path)
	if err != nil {
		t.Fatalf("LoadPrefixFile: %v", err)
	}
	if got, want := s.Len(), 5; got != want {
		t.Errorf("Len: got %d, want %d", got, want)
	}
	tests := []struct {
		addr string
		want bool
	}{
		{"192.0.2.200", true},
		{"198.51.100.7", true},
		{"198.51.100.8", false},
		{"2001:db8:42:1::1", true},
		{"10.200.0.1", true}, // 10.9.8.7/8 masked to 10.0.0.0/8
		{"203.0.113.5", true},
		{"203.0.114.5", false},
	}
	for _, tt := range tests {
		if got := s.Contains(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Contains(%q): got %v, want %v", tt.addr, got, tt.want)
		}
	}
}

func TestLoadPrefixFileErrors(t *testing.T) {
	tests := []struct {
		name, body string
		wantLine   string
		wantText   string
	}{
		{"bad octet", "10.0.0.0/8\n10.0.0.300\n", ":2: ", `"10.0.0.300"`},
		{"bad length", "# c\n\n10.0.0.0/33\n", ":3: ", `"10.0.0.0/33"`},
		{"host name", "example.com # no DNS here\n", ":1: ", `"example.com"`},
		{"zone", "fe80::1%eth0\n", ":1: ", `"fe80::1%eth0"`},
		{"two on a line", "10.0.0.1 10.0.0.2\n", ":1: ", `"10.0.0.1 10.0.0.2"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "list.txt", tt.body)
			_, err := LoadPrefixFile(path)
			if !errors.Is(err, ErrPrefix) {
				t.Fatalf("got %v, want ErrPrefix", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, path+tt.wantLine) || !strings.Contains(msg, tt.wantText) {
				t.Errorf("got %q, want it to start with %q and quote %s", msg, path+tt.wantLine, tt.wantText)
			}
		})
	}
	if _, err := LoadPrefixFile(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v, want os.ErrNotExist", err)
	}
}

func TestClientPolicy(t *testing.T) {
	deny := setOf(t, "10.66.0.0/16")
	allow := setOf(t, "100.64.0.0/10", "10.0.0.0/8")
	tests := []struct {
		name   string
		policy ClientPolicy
		addr   string
		want   bool
	}{
		{"default loopback", ClientPolicy{}, "127.0.0.1", true},
		{"default loopback v6", ClientPolicy{}, "::1", true},
		{"default mapped loopback", ClientPolicy{}, "::ffff:127.0.0.1", true},
		{"default rfc1918 10", ClientPolicy{}, "10.1.2.3", true},
		{"default rfc1918 172", ClientPolicy{}, "172.31.255.255", true},
		{"default outside 172.16/12", ClientPolicy{}, "172.32.0.1", false},
		{"default rfc1918 192", ClientPolicy{}, "192.168.0.10", true},
		{"default link-local", ClientPolicy{}, "169.254.1.1", true},
		{"default ula", ClientPolicy{}, "fd12:3456::1", true},
		{"default v6 link-local", ClientPolicy{}, "fe80::abcd", true},
		{"default refuses cgnat", ClientPolicy{}, "100.64.0.1", false},
		{"default refuses public", ClientPolicy{}, "8.8.8.8", false},
		{"default refuses public v6", ClientPolicy{}, "2001:4860::8888", false},
		{"default refuses unspecified", ClientPolicy{}, "0.0.0.0", false},
		{"default refuses invalid", ClientPolicy{}, "", false},
		{"deny wins over default", ClientPolicy{Deny: deny}, "10.66.1.1", false},
		{"deny leaves the rest", ClientPolicy{Deny: deny}, "10.67.1.1", true},
		{"explicit allow cgnat", ClientPolicy{Allow: allow}, "100.100.1.1", true},
		{"explicit allow replaces default", ClientPolicy{Allow: allow}, "127.0.0.1", false},
		{"explicit allow and deny", ClientPolicy{Allow: allow, Deny: deny}, "10.66.0.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a netip.Addr
			if tt.addr != "" {
				a = netip.MustParseAddr(tt.addr)
			}
			if got := tt.policy.Permit(a); got != tt.want {
				t.Errorf("Permit(%q): got %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
}

func TestClientPolicyAllocs(t *testing.T) {
	p := ClientPolicy{Deny: setOf(t, "10.66.0.0/16")}
	a := netip.MustParseAddr("192.168.1.1")
	if n := testing.AllocsPerRun(1000, func() { p.Permit(a) }); n != 0 {
		t.Errorf("Permit: got %v allocations, want 0", n)
	}
}
