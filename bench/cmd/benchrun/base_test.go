package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestBaseBuildCommands(t *testing.T) {
	b := baseBuild{repo: "/src/edgeproxy", rev: "HEAD~0", commit: "0123456789abcdef0123456789abcdef01234567",
		describe: "0123456", tmp: "/tmp/edgebench-base-1", out: "/src/edgeproxy/bench/.build/edgeproxy-base"}
	want := []string{
		"(cd /src/edgeproxy && git archive --format=tar --output=/tmp/edgebench-base-1/src.tar 0123456789abcdef0123456789abcdef01234567)",
		"(cd /tmp/edgebench-base-1 && mkdir -p /tmp/edgebench-base-1/src)",
		"(cd /tmp/edgebench-base-1 && tar -x -f /tmp/edgebench-base-1/src.tar -C /tmp/edgebench-base-1/src)",
	}
	var got []string
	for _, c := range b.unpackCommands() {
		got = append(got, c.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("unpack:\ngot  %q\nwant %q", got, want)
	}
	for _, tc := range []struct {
		name    string
		hasMake bool
		want    []string
	}{
		{"make build", true, []string{"make", "build", "BIN=/src/edgeproxy/bench/.build/edgeproxy-base", "VERSION=0123456"}},
		{"go build", false, []string{"go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=0123456",
			"-o", "/src/edgeproxy/bench/.build/edgeproxy-base", "./cmd/edgeproxy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := b.buildCommand(tc.hasMake)
			if c.dir != "/tmp/edgebench-base-1/src" {
				t.Errorf("dir: got %q, want %q", c.dir, "/tmp/edgebench-base-1/src")
			}
			if !slices.Equal(c.argv, tc.want) {
				t.Errorf("argv: got %q, want %q", c.argv, tc.want)
			}
		})
	}
}

// TestBuildBase builds a revision of a throwaway repository whose Makefile
// "build" writes BIN and VERSION into the output: the revision's own tree
// is used (not the work tree), the output lands at -edgeproxy-base, and a
// second build of the same commit is skipped.
func TestBuildBase(t *testing.T) {
	for _, tool := range []string{"git", "make", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	repo := t.TempDir()
	sh := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.email=b@example.invalid", "-c", "user.name=bench"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	write := func(name, body string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(repo, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sh("init", "-q")
	write("Makefile", "BIN := bin/x\nVERSION := wrong\nbuild:\n\tprintf '%s %s\\n' \"$(VERSION)\" \"$$(cat marker)\" > $(BIN)\n")
	write("marker", "first")
	write("bench/README.md", "bench\n")
	sh("add", ".")
	sh("commit", "-q", "-m", "first")
	write("marker", "second")
	sh("commit", "-q", "-am", "second")
	write("marker", "uncommitted")

	out := filepath.Join(t.TempDir(), "edgeproxy-base")
	var logs []string
	logf := func(format string, a ...any) { logs = append(logs, format) }
	b, err := buildBase(filepath.Join(repo, "bench"), "HEAD~1", out, logf)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if want := b.describe + " first\n"; string(got) != want {
		t.Errorf("binary: got %q, want %q", got, want)
	}
	if len(b.commit) != 40 {
		t.Errorf("commit: got %q, want a full hash", b.commit)
	}
	if b.repo != repo {
		if r, _ := filepath.EvalSymlinks(repo); b.repo != r {
			t.Errorf("repo: got %q, want %q", b.repo, repo)
		}
	}
	if _, err := buildBase(repo, "HEAD~1", out, logf); err != nil {
		t.Fatal(err)
	}
	if len(logs) != 2 || !strings.Contains(logs[1], "already built") {
		t.Errorf("second build of the same commit: got logs %q, want the second to say already built", logs)
	}
	if _, err := buildBase(repo, "no-such-rev", out, logf); !errors.Is(err, errBaseRev) {
		t.Errorf("unknown revision: got %v, want %v", err, errBaseRev)
	}
}

func TestParseFlagsBaseline(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		base     string
		withBase bool
	}{
		{"no baseline: not in the default products", nil, "", false},
		{"a binary", []string{"-edgeproxy-base", "/b/edgeproxy"}, "/b/edgeproxy", true},
		{"a revision: built into the tool dir", []string{"-base-rev", "main", "-tool-dir", "/t"}, "/t/edgeproxy-base", true},
		{"asked for by name", []string{"-products", "edgeproxy,edgeproxy-base"}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseFlags(append(tc.args, "-out", t.TempDir()))
			if err != nil {
				t.Fatal(err)
			}
			if c.edgeproxyBase != tc.base {
				t.Errorf("edgeproxyBase: got %q, want %q", c.edgeproxyBase, tc.base)
			}
			if got := slices.Contains(c.products, baseProduct); got != tc.withBase {
				t.Errorf("products %q: got edgeproxy-base %v, want %v", c.products, got, tc.withBase)
			}
		})
	}
}
