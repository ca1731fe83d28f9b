package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// edgeproxy prefetch-report prints the arcs learned from a log with their
// probabilities, marks the prefetch set, and the share predicted.
func TestPrefetchReport(t *testing.T) {
	var log strings.Builder
	for i := range 4 {
		client := fmt.Sprintf("10.0.0.%d", i+1)
		ts := 1795000000 + 10*i
		fmt.Fprintf(&log, "%d.000 5 %s TCP_MISS/200 1000 GET http://a.example/index.html - HIER_DIRECT/1.2.3.4 text/html\n", ts, client)
		fmt.Fprintf(&log, "%d.100 5 %s TCP_MISS/200 500 GET http://a.example/app.js - HIER_DIRECT/1.2.3.4 text/javascript\n", ts, client)
		if i%2 == 0 {
			fmt.Fprintf(&log, "%d.200 5 %s TCP_MISS/200 500 GET http://a.example/logo.png - HIER_DIRECT/1.2.3.4 image/png\n", ts, client)
		}
	}
	path := filepath.Join(t.TempDir(), "access.log")
	if err := os.WriteFile(path, []byte(log.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(binary, "prefetch-report", "--log", path, "--threshold", "0.6").CombinedOutput()
	if err != nil {
		t.Fatalf("prefetch-report: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"squid: 10 lines, 10 GET",
		"window 16, threshold 0.60, min count 2",
		// index → app.js every time: p = 1, in the set; index → logo half
		// the time: p = 0.5, below 0.6.
		"http://a.example/index.html -> http://a.example/app.js",
		"requests    10",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	for line := range strings.Lines(text) {
		switch {
		case strings.Contains(line, "index.html -> http://a.example/app.js"):
			if !strings.Contains(line, "1.000") || !strings.HasSuffix(strings.TrimSpace(line), "*") {
				t.Errorf("index -> app.js: %q, want p 1.000 in the set", line)
			}
		case strings.Contains(line, "index.html -> http://a.example/logo.png"):
			if !strings.Contains(line, "0.500") || strings.HasSuffix(strings.TrimSpace(line), "*") {
				t.Errorf("index -> logo: %q, want p 0.500 outside the set", line)
			}
		}
	}
	if out, err := exec.Command(binary, "prefetch-report").CombinedOutput(); err == nil || !strings.Contains(string(out), "--log FILE") {
		t.Errorf("without --log: %v %q, want usage and an error", err, out)
	}
	if out, err := exec.Command(binary, "prefetch-report", "--log", path, "--window", "99").CombinedOutput(); err == nil || !strings.Contains(string(out), "prefetch.window") {
		t.Errorf("--window 99: %v %q, want a range error naming prefetch.window", err, out)
	}
}
