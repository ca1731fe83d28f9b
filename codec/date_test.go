package codec

import (
	"net/http"
	"testing"
	"time"
)

func TestParseHTTPDate(t *testing.T) {
	want := time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)
	for _, in := range []string{
		"Sun, 06 Nov 1994 08:49:37 GMT",
		"Sunday, 06-Nov-94 08:49:37 GMT",
		"Sun Nov  6 08:49:37 1994",
		" Sun, 06 Nov 1994 08:49:37 GMT ",
	} {
		got, ok := ParseHTTPDate([]byte(in))
		if !ok || !got.Equal(want) {
			t.Errorf("ParseHTTPDate(%q) = %v, %v; want %v", in, got, ok, want)
		}
		std, err := http.ParseTime(in)
		if err == nil && !std.Equal(got) {
			t.Errorf("ParseHTTPDate(%q) = %v, net/http says %v", in, got, std)
		}
	}
	for _, in := range []string{"", "0", "-1", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "garbage, in"} {
		if got, ok := ParseHTTPDate([]byte(in)); ok {
			t.Errorf("ParseHTTPDate(%q) = %v, want failure", in, got)
		}
	}
}

func TestAppendHTTPDateRoundTrip(t *testing.T) {
	now := time.Unix(1700000000, 0)
	b := AppendHTTPDate(nil, now)
	if string(b) != "Tue, 14 Nov 2023 22:13:20 GMT" {
		t.Fatalf("got %q", b)
	}
	got, ok := ParseHTTPDate(b)
	if !ok || !got.Equal(now) {
		t.Fatalf("round trip got %v %v", got, ok)
	}
	if n := testing.AllocsPerRun(100, func() { ParseHTTPDate(b) }); n != 0 {
		t.Fatalf("ParseHTTPDate allocates %v times", n)
	}
}
