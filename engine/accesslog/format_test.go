package accesslog

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

var (
	t0   = time.Unix(1700000000, 123456789).In(time.FixedZone("", -5*3600))
	miss = Record{
		Time: t0, Elapsed: 45*time.Millisecond + 900*time.Microsecond,
		Client: netip.MustParseAddr("192.0.2.10"), Code: CodeMiss, Status: 200, Bytes: 1234,
		Method: "GET", URL: "http://example.com/index.html?q=1", User: "alice",
		Hierarchy: HierDirect, Peer: "93.184.216.34", ContentType: "text/html; charset=utf-8",
		Referer: "http://example.com/", UserAgent: "curl/8.5.0",
	}
	denied = Record{
		Time: time.Unix(99999999, 5_000_000).UTC(), Elapsed: 0,
		Client: netip.MustParseAddr("::ffff:10.0.0.1"), Code: CodeDenied, Status: 407, Bytes: 0,
		Method: "CONNECT", URL: "example.com:443",
	}
	hostile = Record{
		Time: t0, Elapsed: 1234567 * time.Millisecond,
		Client: netip.MustParseAddr("2001:db8::1"), Status: 0,
		Method: "GET", URL: "http://x.test/a b\r\nc", User: "bob smith[1]%\\\n",
		ContentType: "text/plain\r\nX: y", Referer: `say "hi" \ ok`, UserAgent: "ü\x01",
	}
)

func TestAppendSquid(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
		want string
	}{
		{"miss", miss, "1700000000.123     45 192.0.2.10 TCP_MISS/200 1234 GET http://example.com/index.html?q=1 alice HIER_DIRECT/93.184.216.34 text/html\n"},
		{"denied, defaults", denied, " 99999999.005      0 10.0.0.1 TCP_DENIED/407 0 CONNECT example.com:443 - HIER_NONE/- -\n"},
		{"hostile fields", hostile, "1700000000.123 1234567 2001:db8::1 NONE/000 0 GET http://x.test/a%20b%0d%0ac bob%20smith%5b1%5d%25\\\\\\n HIER_NONE/- text/plain%0d%0aX:\n"},
		{"zero record", Record{}, "-62135596800.000      0 - NONE/000 0 - - - HIER_NONE/- -\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(AppendSquid(nil, &tt.rec)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAppendCommon(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
		want string
	}{
		{"miss", miss, `192.0.2.10 - alice [14/Nov/2023:17:13:20 -0500] "GET http://example.com/index.html?q=1 HTTP/1.1" 200 1234 TCP_MISS:HIER_DIRECT` + "\n"},
		{"denied", denied, `10.0.0.1 - - [03/Mar/1973:09:46:39 +0000] "CONNECT example.com:443 HTTP/1.1" 407 0 TCP_DENIED:HIER_NONE` + "\n"},
		{"http/1.0", Record{Time: denied.Time, Method: "GET", URL: "http://a/", Proto: "HTTP/1.0", Status: 304}, `- - - [03/Mar/1973:09:46:39 +0000] "GET http://a/ HTTP/1.0" 304 0 NONE:HIER_NONE` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(AppendCommon(nil, &tt.rec)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAppendCombined(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
		want string
	}{
		{"miss", miss, `192.0.2.10 - alice [14/Nov/2023:17:13:20 -0500] "GET http://example.com/index.html?q=1 HTTP/1.1" 200 1234 "http://example.com/" "curl/8.5.0" TCP_MISS:HIER_DIRECT` + "\n"},
		{"no headers", denied, `10.0.0.1 - - [03/Mar/1973:09:46:39 +0000] "CONNECT example.com:443 HTTP/1.1" 407 0 "-" "-" TCP_DENIED:HIER_NONE` + "\n"},
		{"hostile", hostile, `2001:db8::1 - bob%20smith%5b1%5d%25\\\n [14/Nov/2023:17:13:20 -0500] "GET http://x.test/a%20b%0d%0ac HTTP/1.1" 0 0 "say \"hi\" \\ ok" "\xc3\xbc\x01" NONE:HIER_NONE` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(AppendCombined(nil, &tt.rec)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in   string
		want Format
		err  error
	}{
		{"", FormatSquid, nil},
		{"squid", FormatSquid, nil},
		{"common", FormatCommon, nil},
		{"combined", FormatCombined, nil},
		{"Squid", 0, ErrFormat},
		{"json", 0, ErrFormat},
	}
	for _, tt := range tests {
		got, err := ParseFormat(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("ParseFormat(%q): got %v %v, want %v %v", tt.in, got, err, tt.want, tt.err)
		}
		if err == nil && got.String() != map[string]string{"": "squid"}[tt.in]+tt.in {
			t.Errorf("String: got %q, want %q", got.String(), tt.in)
		}
	}
}

func TestAppendAllocs(t *testing.T) {
	buf := make([]byte, 0, 1024)
	for _, f := range []Format{FormatSquid, FormatCommon, FormatCombined} {
		if n := testing.AllocsPerRun(1000, func() { f.Append(buf[:0], &miss) }); n != 0 {
			t.Errorf("%v: got %v allocations, want 0", f, n)
		}
	}
}

func BenchmarkAppendSquid(b *testing.B) {
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendSquid(buf[:0], &miss)
	}
}
