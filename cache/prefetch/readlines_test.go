package prefetch

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// ReadLines passes every well-formed line with its status, whatever its
// method; ReadSquid over the same log passes only the GETs.
func TestReadLines(t *testing.T) {
	const log = "1286536308.779 1855 10.0.0.1 TCP_MISS/200 1331 GET http://a/x - DIRECT/1.2.3.4 text/html\n" +
		"1286536309.100 10 10.0.0.2 TCP_DENIED/0 0 CONNECT b:443 - HIER_NONE/- -\n" +
		"1286536309.100 10 10.0.0.2 TCP_MISS/1234 5 GET http://c/ - DIRECT/x text/plain\n" +
		"garbage\n"
	type line struct {
		method, url string
		status      int
		bytes       int64
	}
	var got []line
	st, err := ReadLines(strings.NewReader(log), FormatSquid, func(l *Line) {
		got = append(got, line{string(l.Method), string(l.URL), l.Status, l.Bytes})
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []line{{"GET", "http://a/x", 200, 1331}, {"CONNECT", "b:443", 0, 0}}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if st.Lines != 4 || st.Records != 2 || st.Malformed != 2 || st.Skipped != 0 {
		t.Errorf("stats: got %+v, want 4 lines, 2 records, 2 malformed", st)
	}
	gets, err := ReadSquid(strings.NewReader(log), func(string, string, time.Time, int64) {})
	if err != nil || gets.Records != 1 || gets.Skipped != 1 || gets.Malformed != 2 {
		t.Errorf("ReadSquid: got %+v, %v, want 1 record, 1 skipped, 2 malformed", gets, err)
	}
	if _, err := ReadLines(strings.NewReader(log), "json", func(*Line) {}); !errors.Is(err, ErrFormat) {
		t.Errorf("unknown format: got %v, want ErrFormat", err)
	}
}
