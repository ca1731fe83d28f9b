package prefetch

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReplayArithmetic pins the replay on A B A B A B by one client,
// window 2: see the steps in the comments.
func TestReplayArithmetic(t *testing.T) {
	r := NewReplay(New(Options{Window: 2, Threshold: 0.5}))
	// 1 A: nothing known.       2 B: not predicted; learns A→B.
	// 3 A: issues B (p 1/1).    4 B: predicted; issues A (B→A 1/1).
	// 5 A: predicted; B lapsed after two requests, issued again.
	// 6 B: predicted; A issued again.
	for _, u := range []string{"A", "B", "A", "B", "A", "B"} {
		r.Add("c", u, 100)
	}
	if r.Requests != 6 || r.Predicted != 3 || r.Issued != 4 || r.Used != 3 || r.Bytes != 600 || r.PredictedBytes != 300 {
		t.Errorf("got requests %d predicted %d issued %d used %d bytes %d/%d, want 6 3 4 3 600/300",
			r.Requests, r.Predicted, r.Issued, r.Used, r.PredictedBytes, r.Bytes)
	}
}

func TestReplayPerClient(t *testing.T) {
	r := NewReplay(New(Options{Window: 2}))
	for _, s := range []string{"c:A", "c:B", "c:A", "d:B"} {
		c, u, _ := cut(s)
		r.Add(c, u, 1)
	}
	// c's second A issues B for c, and d's B is not predicted by it; d's B
	// issues A for d.
	if r.Issued != 2 || r.Predicted != 0 {
		t.Errorf("issued %d predicted %d, want 2 0", r.Issued, r.Predicted)
	}
}

func TestReport(t *testing.T) {
	var recs []Record
	for range 5 {
		recs = append(recs, Record{Client: "c", URL: "http://e/page", Bytes: 1000}, Record{Client: "c", URL: "http://e/style.css", Bytes: 100})
	}
	var b strings.Builder
	if err := Report(&b, New(Options{Window: 2}), recs...); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"requests    10, 5500 bytes",
		// All but the first page, the first style and the second page.
		"predicted   7 requests (70.0%)",
		"prefetches  8 issued, 7 used: precision 87.5%",
		"http://e/page -> http://e/style.css  5",
		"1.000  *",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestRunReport(t *testing.T) {
	dir := t.TempDir()
	squid := filepath.Join(dir, "access.log")
	var lines []string
	for range 3 {
		lines = append(lines,
			"1700000000.000 1 10.0.0.1 TCP_MISS/200 1000 GET http://e/p - HIER_DIRECT/1.1.1.1 text/html",
			"1700000000.100 1 10.0.0.1 TCP_MISS/200 100 GET http://e/o - HIER_DIRECT/1.1.1.1 text/css",
			"1700000000.200 1 10.0.0.1 TCP_TUNNEL/200 0 CONNECT e:443 - HIER_DIRECT/1.1.1.1 -",
			"junk")
	}
	if err := os.WriteFile(squid, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := RunReport(&b, squid, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"squid: 12 lines, 6 GET, 3 other methods, 3 malformed", "http://e/p -> http://e/o"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}

	clf := filepath.Join(dir, "common.log")
	os.WriteFile(clf, []byte(`10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.1" 200 10`+"\n"), 0o600)
	b.Reset()
	if err := RunReport(&b, clf, Options{}); err != nil || !strings.Contains(b.String(), "common: 1 lines, 1 GET") {
		t.Errorf("common log: got %v\n%s", err, b.String())
	}

	bad := filepath.Join(dir, "bad.log")
	os.WriteFile(bad, []byte("hello\n"), 0o600)
	if err := RunReport(&b, bad, Options{}); !errors.Is(err, ErrFormat) {
		t.Errorf("unknown format: got %v, want ErrFormat", err)
	}
	if err := RunReport(&b, squid, Options{Window: -1}); !errors.Is(err, ErrOptions) {
		t.Errorf("bad options: got %v, want ErrOptions", err)
	}
	if err := RunReport(&b, filepath.Join(dir, "missing"), Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v, want ErrNotExist", err)
	}
}
