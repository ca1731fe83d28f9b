package prefetch

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

type seen struct {
	client, url string
	t           time.Time
	bytes       int64
}

func readAll(t *testing.T, reader func(*strings.Reader, RecordFunc) (ReadStats, error), log string) (ReadStats, []seen) {
	t.Helper()
	var got []seen
	st, err := reader(strings.NewReader(log), func(client, url string, tm time.Time, bytes int64) {
		got = append(got, seen{client, url, tm, bytes})
	})
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return st, got
}

func squidReader(r *strings.Reader, fn RecordFunc) (ReadStats, error)  { return ReadSquid(r, fn) }
func commonReader(r *strings.Reader, fn RecordFunc) (ReadStats, error) { return ReadCommon(r, fn) }

func TestReadSquid(t *testing.T) {
	log := strings.Join([]string{
		// As engine/accesslog.AppendSquid writes it: padded elapsed time.
		"1700000000.123     12 10.0.0.1 TCP_MISS/200 5120 GET http://example.com/a.html - HIER_DIRECT/93.184.216.34 text/html",
		"1700000001.004      0 10.0.0.2 TCP_MEM_HIT/200 300 GET http://example.com/b.css - HIER_NONE/- text/css; charset=utf-8",
		"1700000001.500 1 10.0.0.1 TCP_TUNNEL/200 9000 CONNECT example.com:443 - HIER_DIRECT/93.184.216.34 -",
		"1700000002.000 1 10.0.0.3 TCP_MISS/304 0 GET http://example.com/c.js - HIER_DIRECT/1.2.3.4", // no type
		"",
		"not a squid line",
		"1700000002.5 1 10.0.0.3 TCP_MISS/200 10 GET http://example.com/x - HIER_DIRECT/1.2.3.4 -", // two-digit millis
		"1700000003.000 1 10.0.0.3 TCP_MISS 10 GET http://example.com/x - HIER_DIRECT/1.2.3.4 -",   // no status
		"1700000003.000 1 10.0.0.3 TCP_MISS/200 -5 GET http://example.com/x - HIER_DIRECT/1.2.3.4 -",
		"1700000004.000 1 10.0.0.4 TCP_MISS/200 77 GET http://example.com/d - HIER_DIRECT/1.2.3.4 -\r",
		"1700000004.000 1 10.0.0.4 TCP_MISS/200 77 GET " + strings.Repeat("x", MaxLine+10) + " - HIER_DIRECT/1.2.3.4 -",
		"1700000005.000 1 10.0.0.5 TCP_MISS/200 88 GET http://example.com/e - HIER_DIRECT/1.2.3.4 -", // no final newline
	}, "\n")
	st, got := readAll(t, squidReader, log)
	want := []seen{
		{"10.0.0.1", "http://example.com/a.html", time.UnixMilli(1700000000123), 5120},
		{"10.0.0.2", "http://example.com/b.css", time.UnixMilli(1700000001004), 300},
		{"10.0.0.3", "http://example.com/c.js", time.UnixMilli(1700000002000), 0},
		{"10.0.0.4", "http://example.com/d", time.UnixMilli(1700000004000), 77},
		{"10.0.0.5", "http://example.com/e", time.UnixMilli(1700000005000), 88},
	}
	if !slices.Equal(got, want) {
		t.Errorf("records:\ngot  %v\nwant %v", got, want)
	}
	if wantSt := (ReadStats{Lines: 12, Records: 5, Skipped: 1, Malformed: 5}); st != wantSt {
		t.Errorf("stats: got %+v, want %+v", st, wantSt)
	}
}

func TestReadCommon(t *testing.T) {
	log := strings.Join([]string{
		`10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET http://example.com/a.html HTTP/1.1" 200 2326 TCP_MISS:HIER_DIRECT`,
		`10.0.0.2 - frank [10/Oct/2000:13:55:37 -0700] "GET /b.png HTTP/1.0" 304 - "http://example.com/" "Mozilla/5.0 (X11)" TCP_HIT:HIER_NONE`,
		`10.0.0.2 - - [10/Oct/2000:13:55:38 -0700] "POST /form HTTP/1.1" 200 10`,
		`10.0.0.3 - - [10/Oct/2000:13:55:39 +0000] "GET /q?\"x\" HTTP/1.1" 200 5`,
		`10.0.0.3 - - [bad date] "GET /x HTTP/1.1" 200 5`,
		`10.0.0.3 - - [10/Oct/2000:13:55:39 +0000] "GET /x HTTP/1.1 200 5`,
		`10.0.0.3 - - [10/Oct/2000:13:55:39 +0000] "GET /x HTTP/1.1" OK 5`,
		`10.0.0.4 - - [10/Oct/2000:13:55:40 +0000] "GET /" 200 1`, // HTTP/0.9 request line
	}, "\n") + "\n"
	st, got := readAll(t, commonReader, log)
	at := func(s string) time.Time {
		tm, err := time.Parse(clfTime, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	want := []seen{
		{"10.0.0.1", "http://example.com/a.html", at("10/Oct/2000:13:55:36 -0700"), 2326},
		{"10.0.0.2", "/b.png", at("10/Oct/2000:13:55:37 -0700"), 0},
		{"10.0.0.3", `/q?\"x\"`, at("10/Oct/2000:13:55:39 +0000"), 5},
		{"10.0.0.4", "/", at("10/Oct/2000:13:55:40 +0000"), 1},
	}
	if len(got) != len(want) {
		t.Fatalf("records:\ngot  %v\nwant %v", got, want)
	}
	for i := range got {
		if got[i].client != want[i].client || got[i].url != want[i].url || !got[i].t.Equal(want[i].t) || got[i].bytes != want[i].bytes {
			t.Errorf("record %d: got %v, want %v", i, got[i], want[i])
		}
	}
	if wantSt := (ReadStats{Lines: 8, Records: 4, Skipped: 1, Malformed: 3}); st != wantSt {
		t.Errorf("stats: got %+v, want %+v", st, wantSt)
	}
}

func TestReadOneByteAtATime(t *testing.T) {
	log := "1700000000.123 1 10.0.0.1 TCP_MISS/200 10 GET http://e/a - HIER_DIRECT/1.1.1.1 -\n" +
		"1700000000.124 1 10.0.0.1 TCP_MISS/200 10 GET http://e/b - HIER_DIRECT/1.1.1.1 -\n"
	var urls []string
	st, err := ReadSquid(iotest.OneByteReader(strings.NewReader(log)), func(_, url string, _ time.Time, _ int64) {
		urls = append(urls, url)
	})
	if err != nil || st.Records != 2 || !slices.Equal(urls, []string{"http://e/a", "http://e/b"}) {
		t.Errorf("got %q, %+v, %v; want two records", urls, st, err)
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := ReadSquid(iotest.ErrReader(boom), func(string, string, time.Time, int64) {})
	if !errors.Is(err, boom) {
		t.Errorf("got %v, want %v", err, boom)
	}
}

func TestDetectFormat(t *testing.T) {
	for _, tc := range []struct {
		head string
		want string
		err  error
	}{
		{"1700000000.123 1 10.0.0.1 TCP_MISS/200 10 GET http://e/a - HIER_DIRECT/1.1.1.1 -\n", FormatSquid, nil},
		{"\n\n10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /a HTTP/1.1\" 200 1\n", FormatCommon, nil},
		{"garbage\nmore garbage\n", "", ErrFormat},
		{"", "", ErrFormat},
	} {
		got, err := DetectFormat([]byte(tc.head))
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("DetectFormat(%q): got %q, %v; want %q, %v", tc.head, got, err, tc.want, tc.err)
		}
	}
}
