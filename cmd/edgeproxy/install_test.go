package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// repoRoot is the module's root, where the Makefile is.
var repoRoot = filepath.Join("..", "..")

// Issue 13: make install with DESTDIR puts the binary, the unit, the
// logrotate snippet, the example configuration and lists in place; the
// unit's paths are the installed ones (systemd-analyze verify passes on
// it); the installed configuration passes check and runs; and logrotate,
// on the installed snippet, rotates a log the running binary writes, which
// reopens it on SIGUSR1 so new lines go to the new file.
func TestMakeInstall(t *testing.T) {
	for _, tool := range []string{"make", "logrotate", "systemd-analyze", "unshare"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (make test-deps installs logrotate and systemd)", tool)
		}
	}
	dest := t.TempDir()
	if out, err := exec.Command("make", "-C", repoRoot, "install", "DESTDIR="+dest).CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	in := func(p string) string { return filepath.Join(dest, p) }
	for path, mode := range map[string]os.FileMode{
		"/usr/local/bin/edgeproxy":                              0o755,
		"/usr/local/lib/systemd/system/edgeproxy.service":       0o644,
		"/etc/edgeproxy/edgeproxy.yaml":                         0o644,
		"/etc/edgeproxy/allow.txt":                              0o644,
		"/etc/edgeproxy/deny.txt":                               0o644,
		"/etc/logrotate.d/edgeproxy":                            0o644,
		"/usr/local/share/doc/edgeproxy/tuning/README.md":       0o644,
		"/usr/local/share/doc/edgeproxy/edgeproxy.example.yaml": 0o644,
	} {
		st, err := os.Stat(in(path))
		if err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s: got %v, %v; want mode %v", path, st, err, mode)
		}
	}
	unit, _ := os.ReadFile(in("/usr/local/lib/systemd/system/edgeproxy.service"))
	for _, want := range []string{
		"\nExecStart=/usr/local/bin/edgeproxy --config /etc/edgeproxy/edgeproxy.yaml\n",
		"\nDocumentation=file:///usr/local/share/doc/edgeproxy/tuning/README.md\n",
	} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("unit lacks %q", want)
		}
	}

	t.Run("systemd-analyze verify", func(t *testing.T) {
		// The unit names /usr/local/bin/edgeproxy, which DESTDIR holds: a
		// private mount namespace shows DESTDIR's /usr/local at /usr/local,
		// so systemd-analyze sees the tree as the target machine will, with
		// this machine's systemd units (sysinit.target) and /bin/kill.
		// (--root=DESTDIR would hide those, which the OS provides.)
		cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
			`mount --bind "$1/usr/local" /usr/local && exec systemd-analyze verify /usr/local/lib/systemd/system/edgeproxy.service`,
			"sh", dest)
		out, err := cmd.CombinedOutput()
		if err != nil && strings.Contains(string(out), "Operation not permitted") {
			t.Skipf("no private mount namespace here: %s", out)
		}
		if err != nil || len(out) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	})

	// The installed configuration with its paths moved into DESTDIR and a
	// temporary log directory, on free ports, with loopback destinations
	// allowed for the test's origin.
	logDir := t.TempDir()
	addr, admin := freePort(t), freePort(t)
	installed, _ := os.ReadFile(in("/etc/edgeproxy/edgeproxy.yaml"))
	cfgText := strings.NewReplacer("/etc/edgeproxy/", in("/etc/edgeproxy")+"/", "/var/log/edgeproxy/", logDir+"/",
		`listen: ":3128"`, "listen: "+strconv.Quote(addr)+"\nadmin: "+strconv.Quote(admin),
		"\nacl:\n", "\nacl:\n  allow_local_destinations: true\n").Replace(string(installed))
	cfg := filepath.Join(t.TempDir(), "edgeproxy.yaml")
	if err := os.WriteFile(cfg, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := in("/usr/local/bin/edgeproxy")
	if out, err := exec.Command(bin, "check", "--config", cfg).CombinedOutput(); err != nil {
		t.Fatalf("check on the installed configuration: %v\n%s\n%s", err, out, cfgText)
	}

	t.Run("logrotate", func(t *testing.T) {
		origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
		logs := &logBuffer{}
		proc := exec.Command(bin, "--config", cfg)
		proc.Stdout, proc.Stderr = logs, logs
		if err := proc.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- proc.Wait() }()
		t.Cleanup(func() { _ = proc.Process.Kill(); <-done })
		waitFor(t, func() bool { return strings.Contains(logs.String(), "edgeproxy listening") })
		accessLog := filepath.Join(logDir, "access.log")
		lines := func(path string) int {
			b, _ := os.ReadFile(path)
			return strings.Count(string(b), "\n")
		}
		get := func(path string) {
			t.Helper()
			if out, err := curl(t, "-x", "http://"+addr, "http://"+origin+path); err != nil || out != "ok" {
				t.Fatalf("GET %s: got %q, %v\n%s", path, out, err, logs.String())
			}
		}
		for _, p := range []string{"/before-1", "/before-2", "/before-3"} {
			get(p)
		}
		waitFor(t, func() bool { return lines(accessLog) == 3 })

		state := filepath.Join(t.TempDir(), "logrotate.state")
		snippet := in("/etc/logrotate.d/edgeproxy")
		out, err := exec.Command("logrotate", "-d", "-s", state, snippet).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "/var/log/edgeproxy/access.log") {
			t.Fatalf("logrotate -d on the installed snippet: %v\n%s", err, out)
		}
		// The installed snippet, on this log and signalling this process
		// rather than the systemd service.
		text, _ := os.ReadFile(snippet)
		conf := strings.Replace(string(text), "/var/log/edgeproxy/access.log", accessLog, 1)
		start := strings.Index(conf, "postrotate\n") + len("postrotate\n")
		end := strings.Index(conf, "endscript")
		if start < len("postrotate\n") || end < start || !strings.Contains(conf[start:end], "--signal=SIGUSR1") {
			t.Fatalf("the snippet has no postrotate sending SIGUSR1:\n%s", text)
		}
		conf = conf[:start] + "\t\tkill -USR1 " + strconv.Itoa(proc.Process.Pid) + "\n\t" + conf[end:]
		confPath := filepath.Join(t.TempDir(), "edgeproxy.logrotate")
		if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("logrotate", "-f", "-s", state, confPath).CombinedOutput(); err != nil {
			t.Fatalf("logrotate -f: %v\n%s\n%s", err, out, conf)
		}
		rotated := accessLog + ".1"
		if got := lines(rotated); got != 3 {
			t.Fatalf("rotated log: got %d lines, want 3", got)
		}
		for _, p := range []string{"/after-1", "/after-2"} {
			get(p)
		}
		waitFor(t, func() bool { return lines(accessLog) == 2 })
		if got := lines(rotated); got != 3 {
			t.Errorf("rotated log after SIGUSR1: got %d lines, want 3 (new lines must go to the new file)", got)
		}
		if b, _ := os.ReadFile(accessLog); !strings.Contains(string(b), "/after-1") || strings.Contains(string(b), "/before-") {
			t.Errorf("new log: got %q, want only the requests after the rotation", b)
		}
	})

	t.Run("reinstall keeps the configuration; PREFIX moves the paths", func(t *testing.T) {
		conf := in("/etc/edgeproxy/edgeproxy.yaml")
		if err := os.WriteFile(conf, []byte("# mine\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("make", "-C", repoRoot, "install", "DESTDIR="+dest, "PREFIX=/usr").CombinedOutput(); err != nil {
			t.Fatalf("make install PREFIX=/usr: %v\n%s", err, out)
		}
		if b, _ := os.ReadFile(conf); string(b) != "# mine\n" {
			t.Errorf("reinstall replaced the configuration: got %q", b)
		}
		unit, err := os.ReadFile(in("/usr/lib/systemd/system/edgeproxy.service"))
		if err != nil || !strings.Contains(string(unit), "\nExecStart=/usr/bin/edgeproxy --config /etc/edgeproxy/edgeproxy.yaml\n") {
			t.Errorf("unit with PREFIX=/usr: got %v\n%s", err, unit)
		}
		if _, err := os.Stat(in("/usr/bin/edgeproxy")); err != nil {
			t.Errorf("binary with PREFIX=/usr: %v", err)
		}
	})
}
