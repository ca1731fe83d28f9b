package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Issue 13: every hash Apache's htpasswd writes logs in through the binary
// with curl; a line edgeproxy cannot use is skipped with a warning naming
// the file and line, at start-up and on reload, and the other users still
// log in.
func TestHtpasswdEveryScheme(t *testing.T) {
	bin, err := exec.LookPath("htpasswd")
	if err != nil {
		t.Skip("htpasswd not installed (Debian apache2-utils; make test installs it)")
	}
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	file := filepath.Join(t.TempDir(), "htpasswd")
	users := []struct{ flag, user, password string }{
		{"-B", "bcrypt", "b crypt:pw"},
		{"-m", "apr1", "apr one"},
		{"-s", "sha1", "s.h.a"},
		{"-2", "sha256crypt", "two fifty-six"},
		{"-5", "sha512crypt", "five twelve"},
		{"-d", "descrypt", "des-pw"},
	}
	var lines []string
	for _, u := range users {
		out, err := exec.Command(bin, "-nb"+u.flag[1:], u.user, u.password).Output()
		if err != nil {
			t.Fatalf("htpasswd %s: %v", u.flag, err)
		}
		lines = append(lines, strings.TrimSpace(string(out)))
	}
	// Line 7: salted SHA-1, which Apache's htpasswd does not write and
	// edgeproxy does not check.
	lines = append(lines, "ssha:{SSHA}abcdefghijklmnopqrstuvwxyz012345")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, "auth: {basic_file: "+file+"}\n")
	login := func(user, password string) string {
		t.Helper()
		out, _ := curl(t, "-x", "http://"+p.addr, "--proxy-basic", "--proxy-user", user+":"+password,
			"-o", "/dev/null", "-w", "%{http_code}", "http://"+origin+"/")
		return out
	}
	for _, u := range users {
		if got := login(u.user, u.password); got != "200" {
			t.Errorf("htpasswd %s: got %s, want 200", u.flag, got)
		}
		if got := login(u.user, "x"+u.password); got != "407" {
			t.Errorf("htpasswd %s with a wrong password: got %s, want 407", u.flag, got)
		}
	}
	warning := file + `:7: user \"ssha\" skipped`
	if !strings.Contains(p.logs.String(), warning) {
		t.Errorf("start-up log lacks %q:\n%s", warning, p.logs.String())
	}
	// A reload keeps skipping the line instead of refusing the file.
	_ = p.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, func() bool { return strings.Count(p.logs.String(), warning) == 2 })
	if strings.Contains(p.logs.String(), "reload refused") {
		t.Errorf("reload refused:\n%s", p.logs.String())
	}
	if got := login("sha512crypt", "five twelve"); got != "200" {
		t.Errorf("after the reload: got %s, want 200", got)
	}
}

// Issue 13: with both password files, start-up warns about the users found
// in only one of them, since browsers answer the Digest challenge.
func TestAuthBothFilesWarns(t *testing.T) {
	p := startProc(t, "auth: {basic_file: "+filepath.Join(authFixtures, "htpasswd")+
		", digest_file: "+filepath.Join(authFixtures, "htdigest")+"}\n")
	for _, w := range []string{
		`cannot log in from a browser, which answers the Digest challenge: \"alice\", \"bob\", \"carol\"`,
		`cannot log in with a client that sends Basic only: \"erin\"`,
	} {
		if !strings.Contains(p.logs.String(), w) {
			t.Errorf("start-up log lacks %q:\n%s", w, p.logs.String())
		}
	}
}
