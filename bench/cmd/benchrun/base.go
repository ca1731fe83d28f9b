package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// The baseline product (edgeproxy-base) is edgeproxy as built from another
// git revision, measured in the same rounds as the binary under test, so
// that "unchanged" (hits, idle memory, CPU) is a within-round ratio new ÷
// base rather than a comparison with a figure from another day (issue 12).
//
// -base-rev REV builds it: the revision is resolved to a commit, exported
// with `git archive` into a temporary directory (the repository and every
// work tree are left alone: no checkout, no `git worktree` entry), and
// built there by that revision's own `make build` with BIN pointing at the
// output, or by the same `go build` line when the revision has no Makefile
// build target. A binary already built from the same commit is reused.

// cmdSpec is one command of the base build: argv run in dir.
type cmdSpec struct {
	dir  string
	argv []string
}

func (c cmdSpec) String() string {
	return "(cd " + c.dir + " && " + strings.Join(c.argv, " ") + ")"
}

// baseBuild describes one build of edgeproxy at a git revision.
type baseBuild struct {
	repo     string // top level of the git work tree the revision comes from
	rev      string // as given: HEAD~0, main, a tag, a hash
	commit   string // rev resolved to a full commit hash
	describe string // `git describe --always` of commit, the binary's version
	tmp      string // scratch directory: the archive and the unpacked tree
	out      string // absolute path of the binary to write
}

// tree is where the revision is unpacked.
func (b baseBuild) tree() string { return filepath.Join(b.tmp, "src") }

// unpackCommands export the commit's tree into b.tree().
func (b baseBuild) unpackCommands() []cmdSpec {
	tar := filepath.Join(b.tmp, "src.tar")
	return []cmdSpec{
		{b.repo, []string{"git", "archive", "--format=tar", "--output=" + tar, b.commit}},
		{b.tmp, []string{"mkdir", "-p", b.tree()}},
		{b.tmp, []string{"tar", "-x", "-f", tar, "-C", b.tree()}},
	}
}

// buildCommand builds the unpacked tree into b.out: with the revision's own
// `make build` when its Makefile has that target (so the flags are the ones
// that revision ships with), else with the line `make build` runs today.
func (b baseBuild) buildCommand(hasMakeBuild bool) cmdSpec {
	if hasMakeBuild {
		return cmdSpec{b.tree(), []string{"make", "build", "BIN=" + b.out, "VERSION=" + b.describe}}
	}
	return cmdSpec{b.tree(), []string{"go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=" + b.describe,
		"-o", b.out, "./cmd/edgeproxy"}}
}

var makeBuildTarget = regexp.MustCompile(`(?m)^build:`)

// hasMakeBuild says whether the Makefile in dir has a build target.
func hasMakeBuild(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "Makefile"))
	return err == nil && makeBuildTarget.Match(b)
}

// stampPath records which commit the binary at out was built from.
func stampPath(out string) string { return out + ".commit" }

// git runs git -C dir args and returns its trimmed stdout.
func git(dir string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// resolveBase fills repo, commit and describe for rev, starting from any
// directory inside the repository.
func resolveBase(inside, rev, out string) (baseBuild, error) {
	b := baseBuild{rev: rev}
	var err error
	if b.out, err = filepath.Abs(out); err != nil {
		return b, err
	}
	if b.repo, err = git(inside, "rev-parse", "--show-toplevel"); err != nil {
		return b, fmt.Errorf("%w: %v", errBaseRev, err)
	}
	if b.commit, err = git(b.repo, "rev-parse", "--verify", "--quiet", rev+"^{commit}"); err != nil || b.commit == "" {
		return b, fmt.Errorf("%w: %q is not a commit in %s", errBaseRev, rev, b.repo)
	}
	if b.describe, err = git(b.repo, "describe", "--always", b.commit); err != nil {
		return b, fmt.Errorf("%w: %v", errBaseRev, err)
	}
	return b, nil
}

// buildBase builds edgeproxy at rev into out (reusing a binary built from
// the same commit) and returns what it built. Progress goes to log.
func buildBase(inside, rev, out string, log func(format string, a ...any)) (baseBuild, error) {
	b, err := resolveBase(inside, rev, out)
	if err != nil {
		return b, err
	}
	if stamp, err := os.ReadFile(stampPath(b.out)); err == nil && strings.TrimSpace(string(stamp)) == b.commit {
		if _, err := os.Stat(b.out); err == nil {
			log("edgeproxy-base: %s (%s) already built at %s", rev, b.describe, b.out)
			return b, nil
		}
	}
	if b.tmp, err = os.MkdirTemp("", "edgebench-base-"); err != nil {
		return b, err
	}
	defer os.RemoveAll(b.tmp)
	if err := os.MkdirAll(filepath.Dir(b.out), 0o755); err != nil {
		return b, err
	}
	os.Remove(stampPath(b.out))
	log("edgeproxy-base: building %s (%s, commit %s) into %s", rev, b.describe, b.commit[:min(12, len(b.commit))], b.out)
	cmds := b.unpackCommands()
	for _, c := range cmds {
		if err := runCmd(c); err != nil {
			return b, err
		}
	}
	if err := runCmd(b.buildCommand(hasMakeBuild(b.tree()))); err != nil {
		return b, err
	}
	return b, os.WriteFile(stampPath(b.out), []byte(b.commit+"\n"), 0o644)
}

// runCmd runs c, returning its combined output's tail in the error.
func runCmd(c cmdSpec) error {
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.Dir = c.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		tail := strings.TrimSpace(string(out))
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return fmt.Errorf("%w: %s: %v: %s", errBaseBuild, c, err, tail)
	}
	return nil
}

// binaryVersion asks an edgeproxy binary for its version ("" if it cannot
// say).
func binaryVersion(path string) string {
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
