package acl

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseHostIP(t *testing.T) {
	tests := []struct {
		host string
		want string // "" means not an IP literal
	}{
		{"10.1.2.3", "10.1.2.3"},
		{"0.0.0.0", "0.0.0.0"},
		{"255.255.255.255", "255.255.255.255"},
		{"256.1.1.1", ""},
		{"10.1.2", ""},
		{"10.1.2.3.4", ""},
		{"010.1.2.3", ""}, // leading zero: netip refuses it, so do we
		{"10..2.3", ""},
		{"2130706433", ""}, // integer form is a host name here
		{"example.com", ""},
		{"", ""},
		{"[::1]", "::1"},
		{"::1", "::1"},
		{"::", "::"},
		{"[2001:DB8::1]", "2001:db8::1"},
		{"2001:db8:0:0:0:0:0:1", "2001:db8::1"},
		{"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
		{"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"},
		{"[::ffff:10.1.2.3]", "::ffff:10.1.2.3"},
		{"64:ff9b::192.0.2.33", "64:ff9b::c000:221"},
		{"[fe80::1%25eth0]", "fe80::1"},
		{"1.2.3.4%eth0", ""},
		{"1:2:3:4:5:6:7:8:9", ""},
		{"1::2::3", ""},
		{":1::", ""},
		{"1:", ""},
		{"12345::", ""},
		{"[::1", ""},
		{"::g", ""},
		{"1:2:3:4:5:6:7:8::", ""},
		{"1:2:3:4:5:6:7::1.2.3.4", ""},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			a, ok := parseHostIP([]byte(tt.host))
			got := ""
			if ok {
				got = a.String()
			}
			if got != tt.want {
				t.Errorf("parseHostIP(%q): got %q, want %q", tt.host, got, tt.want)
			}
		})
	}
}

func TestParseHostIPAllocs(t *testing.T) {
	for _, h := range []string{"192.168.10.200", "[2001:db8::dead:beef]", "www.example.com"} {
		b := []byte(h)
		if n := testing.AllocsPerRun(1000, func() { parseHostIP(b) }); n != 0 {
			t.Errorf("parseHostIP(%q): got %v allocations, want 0", h, n)
		}
	}
}

// FuzzParseHostIP checks parseHostIP against netip.ParseAddr on zone-free
// input: both must accept the same strings and agree on the address.
func FuzzParseHostIP(f *testing.F) {
	for _, s := range []string{"10.1.2.3", "::1", "2001:db8::1", "::ffff:1.2.3.4", "1::", "a:b:c:d:e:f:0:1", "01.2.3.4", "1:2:3:4:5:6:1.2.3.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsAny(s, "%[]") {
			return
		}
		got, gotOK := parseHostIP([]byte(s))
		want, err := netip.ParseAddr(s)
		if gotOK != (err == nil) || (gotOK && got != want) {
			t.Errorf("parseHostIP(%q): got %v %v, want %v %v", s, got, gotOK, want, err)
		}
	})
}
