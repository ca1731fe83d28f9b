package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Issue 13: edgeproxy check builds what start-up builds, reading every file
// the configuration names, so it fails exactly where start-up fails; both
// name the configuration file, the key, and the named file and line.
func TestCheckMatchesStartup(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	allow := write("allow.txt", "127.0.0.0/8\n")
	badAllow := write("bad-allow.txt", "# ours\n127.0.0.0/8\n10.0.0/8\n")
	htpasswd := write("htpasswd", "carol:{SHA}yMoPICcM7ttRggS4O4C64x6kYGo=\n")
	dupHtpasswd := write("dup-htpasswd", "carol:{SHA}yMoPICcM7ttRggS4O4C64x6kYGo=\ncarol:{SHA}yMoPICcM7ttRggS4O4C64x6kYGo=\n")
	missing := filepath.Join(dir, "missing")
	tests := []struct {
		name, yaml string
		want       []string // each must appear in both messages
	}{
		{"missing allow file", "acl: {allow_file: " + missing + "}\n",
			[]string{"acl.allow_file", missing, "no such file or directory"}},
		{"bad CIDR in the allow file", "acl: {allow_file: " + badAllow + "}\n",
			[]string{"acl.allow_file", badAllow + ":3", `"10.0.0/8"`}},
		{"missing deny file", "acl: {allow_file: " + allow + ", deny_file: " + missing + "}\n",
			[]string{"acl.deny_file", missing}},
		{"missing admin file", "acl: {admin_file: " + missing + "}\n",
			[]string{"acl.admin_file", missing}},
		{"missing htpasswd", "auth: {basic_file: " + missing + "}\n",
			[]string{"auth.basic_file", missing, "no such file or directory"}},
		{"missing htdigest", "auth: {basic_file: " + htpasswd + ", digest_file: " + missing + "}\n",
			[]string{"auth.digest_file", missing}},
		{"duplicate user", "auth: {basic_file: " + dupHtpasswd + "}\n",
			[]string{"auth.basic_file", dupHtpasswd + ":2", `user "carol"`, "duplicate user"}},
		{"log directory missing", "log: {path: " + filepath.Join(missing, "access.log") + "}\n",
			[]string{"log.path", filepath.Join(missing, "access.log"), "no such file or directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := write("edgeproxy.yaml", "listen: 127.0.0.1:0\nadmin: \"off\"\n"+tt.yaml)
			code, stdout, stderr := runBinary(t, "check", "--config", cfg)
			if code != 1 || strings.Contains(stdout, "OK") {
				t.Errorf("check: got exit %d, stdout %q; want 1 and no OK", code, stdout)
			}
			startCode, _, startErr := runBinary(t, "--config", cfg)
			if startCode != 1 {
				t.Errorf("start-up: got exit %d, want 1\n%s", startCode, startErr)
			}
			for _, w := range append([]string{cfg + ": "}, tt.want...) {
				if !strings.Contains(stderr, w) {
					t.Errorf("check: got %q, want %q in it", stderr, w)
				}
				// The start-up log quotes the error as a slog value.
				if q := strconv.Quote(w); !strings.Contains(startErr, q[1:len(q)-1]) {
					t.Errorf("start-up: got %q, want %q in it", startErr, w)
				}
			}
		})
	}
}

// What start-up only warns about, check prints and still passes: htpasswd
// lines it cannot use (named by file and line), users found in only one of
// the password files, a disk cache directory that cannot be used.
func TestCheckWarnings(t *testing.T) {
	dir := t.TempDir()
	htpasswd := filepath.Join(dir, "htpasswd")
	_ = os.WriteFile(htpasswd, []byte("carol:{SHA}yMoPICcM7ttRggS4O4C64x6kYGo=\nsid:{SSHA}abcdefghijklmnopqrstuvwxyz012345\n"), 0o644)
	notDir := filepath.Join(dir, "file")
	_ = os.WriteFile(notDir, nil, 0o644)
	cfg := filepath.Join(dir, "edgeproxy.yaml")
	_ = os.WriteFile(cfg, []byte("listen: 127.0.0.1:0\nadmin: \"off\"\n"+
		"auth: {basic_file: "+htpasswd+", digest_file: "+filepath.Join(authFixtures, "htdigest")+"}\n"+
		"cache: {dirs: [{path: "+filepath.Join(notDir, "cache")+", size: 64MiB}]}\n"+
		"log: {path: "+filepath.Join(dir, "access.log")+"}\n"), 0o644)
	code, stdout, stderr := runBinary(t, "check", "--config", cfg)
	if code != 0 || !strings.Contains(stdout, "configuration OK, with 4 warning(s)") {
		t.Errorf("got exit %d, stdout %q; want 0 and OK with 4 warnings\n%s", code, stdout, stderr)
	}
	for _, w := range []string{
		htpasswd + `:2: user \"sid\" skipped`,
		`cannot log in from a browser, which answers the Digest challenge: \"carol\"`,
		`cannot log in with a client that sends Basic only: \"erin\"`,
		"disk cache directory out of service", "cache.dirs[0].path", "not a directory",
	} {
		if !strings.Contains(stderr, w) {
			t.Errorf("got %q, want %q in it", stderr, w)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "access.log")); err == nil {
		t.Errorf("check created the access log; it must only probe the directory")
	}
}
