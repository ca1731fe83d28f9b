package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runBinary runs the binary with args and returns its exit code, stdout and
// stderr. A command that should exit but starts a proxy instead is killed
// after a generous hang guard and reported as exit code -1.
func runBinary(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		return -1, out.String(), errb.String()
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errb.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, out.String(), errb.String()
}

// Issue 13: an unknown command or a stray argument is a usage error (exit
// 2, usage on stderr), never a proxy started on the defaults; help and
// --help list the commands and exit 0; every existing flag and command
// still works.
func TestCLIUsage(t *testing.T) {
	good := filepath.Join(t.TempDir(), "good.yaml")
	if err := os.WriteFile(good, []byte("listen: 127.0.0.1:0\nadmin: \"off\"\nlog: {path: \"off\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	commands := []string{"check", "tune", "prefetch-report", "help", "--version"}
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string // each must appear in stdout
		wantStderr []string // each must appear in stderr
	}{
		{"help", []string{"help"}, 0, commands, nil},
		{"--help", []string{"--help"}, 0, append(commands, "-config", "-listen", "-admin", "-cache-mem", "-cache-large-mem"), nil},
		{"-h", []string{"-h"}, 0, commands, nil},
		{"typo of check", []string{"chekc", "--config", good}, 2, nil, []string{`unknown command "chekc" (did you mean check?)`, "usage:"}},
		{"unknown command", []string{"serve"}, 2, nil, []string{`unknown command "serve"`, "usage:"}},
		{"stray argument", []string{"--config", good, "extra"}, 2, nil, []string{`unexpected argument "extra"`, "usage:"}},
		{"unknown flag", []string{"--confg", good}, 2, nil, []string{"flag provided but not defined: -confg", "usage:"}},
		{"help with an argument", []string{"help", "me"}, 2, nil, []string{`unexpected argument "me"`}},
		{"help check", []string{"help", "check"}, 0, []string{"flags of edgeproxy check", "-config"}, nil},
		{"check stray argument", []string{"check", "--config", good, "again"}, 2, nil, []string{`check: unexpected argument "again"`}},
		{"check without config", []string{"check"}, 2, nil, []string{"--config FILE is required"}},
		{"check --help", []string{"check", "--help"}, 0, []string{"flags of edgeproxy check", "-config"}, nil},
		{"check", []string{"check", "--config", good}, 0, []string{"configuration OK"}, nil},
		{"tune", []string{"tune", "--config", good}, 0, []string{"RLIMIT_NOFILE"}, nil},
		{"tune stray argument", []string{"tune", "x"}, 2, nil, []string{`tune: unexpected argument "x"`}},
		{"prefetch-report without log", []string{"prefetch-report"}, 2, nil, []string{"usage: edgeproxy prefetch-report"}},
		{"prefetch-report stray argument", []string{"prefetch-report", "--log", good, "x"}, 2, nil, []string{`prefetch-report: unexpected argument "x"`}},
		{"--version", []string{"--version"}, 0, []string{"edgeproxy "}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runBinary(t, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit code: got %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout: got %q, want %q in it", stdout, w)
				}
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr: got %q, want %q in it", stderr, w)
				}
			}
		})
	}
}

// The run flags still override the file: the proxy listens where --listen
// says, answers on --admin, and the cache sizes come from the flags. Issue
// 13: --cache-large-mem 16MiB alone starts (the default max_object follows
// it down) instead of failing on max_object 64MiB > large_memory.
func TestRunFlags(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "edgeproxy.yaml")
	if err := os.WriteFile(cfg, []byte("listen: 127.0.0.1:1\nlog: {path: \"off\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr, admin := freePort(t), freePort(t)
	p := &proxyProc{addr: addr, admin: admin, logs: &logBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(binary, "--config", cfg, "--listen", addr, "--admin", admin,
		"--cache-mem", "8MiB", "--cache-large-mem", "16MiB")
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); <-p.done })
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.logs.String(), "edgeproxy listening") {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("the proxy exited (%v):\n%s", err, p.logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the proxy did not start:\n%s", p.logs.String())
		}
	}
	body, err := curl(t, "http://"+admin+"/stats")
	if err != nil {
		t.Fatalf("admin on --admin %s: %v %s", admin, err, body)
	}
	if want := `listen=` + addr; !strings.Contains(p.logs.String(), want) {
		t.Errorf("log: got %q, want %q in it", p.logs.String(), want)
	}
}
