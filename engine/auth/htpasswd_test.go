package auth

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The fixtures in testdata were written by Apache's htpasswd 2.4 and htdigest:
//
//	htpasswd -cbB testdata/htpasswd alice 'wonder land'
//	htpasswd -bm  testdata/htpasswd bob   'b0b:pass'
//	htpasswd -bs  testdata/htpasswd carol 'Ca.rol!'
//	htdigest -c   testdata/htdigest edgeproxy erin   (password "secret one")
//	htdigest      testdata/htdigest elsewhere frank  (password "frank")
//
// htdigest-sha256 extends erin's line with SHA-256(user:realm:password) and
// adds gina ("g1na pass") with a SHA-256 HA1 only, made with sha256sum.
var fixturePasswords = map[string]string{
	"alice": "wonder land",
	"bob":   "b0b:pass",
	"carol": "Ca.rol!",
	"erin":  "secret one",
	"gina":  "g1na pass",
}

func TestLoadHtpasswdFixture(t *testing.T) {
	users, warnings, err := loadHtpasswd("testdata/htpasswd")
	if err != nil || warnings != nil {
		t.Fatal(err, warnings)
	}
	kinds := map[string]hashKind{"alice": hashBcrypt, "bob": hashAPR1, "carol": hashSHA}
	if len(users) != len(kinds) {
		t.Fatalf("got %d users, want %d", len(users), len(kinds))
	}
	for name, kind := range kinds {
		t.Run(name, func(t *testing.T) {
			u := users[name]
			if u == nil || u.kind != kind {
				t.Fatalf("got %+v, want kind %d", u, kind)
			}
			if u.costly() != (kind != hashSHA) {
				t.Errorf("costly: got %v, want %v", u.costly(), kind != hashSHA)
			}
			if !u.check([]byte(fixturePasswords[name])) {
				t.Errorf("check(%q): got false, want true", fixturePasswords[name])
			}
			if u.check([]byte(fixturePasswords[name] + "x")) {
				t.Errorf("check(wrong password): got true, want false")
			}
		})
	}
}

// TestHtpasswdGenerated writes entries with the real htpasswd and checks
// that each verifies with its password and no other.
//
// Issue 13: -2, -5 and -d are what Apache's htpasswd writes too.
func TestHtpasswdGenerated(t *testing.T) {
	bin, err := exec.LookPath("htpasswd")
	if err != nil {
		t.Skip("htpasswd not on PATH (Debian package apache2-utils)")
	}
	passwords := []string{"p", "short", "exactly16chars!!", "a much longer password of 40 characters", "üñíçødé", "with:colon"}
	for _, flag := range []string{"-B", "-m", "-s", "-2", "-5", "-d"} {
		for _, pw := range passwords {
			if flag == "-d" && len(pw) > desMaxPassword {
				pw = pw[:desMaxPassword] // crypt(3) DES reads 8 bytes and htpasswd -d warns
			}
			out, err := exec.Command(bin, "-nb"+flag[1:], "u", pw).Output()
			if err != nil {
				t.Fatalf("htpasswd %s: %v", flag, err)
			}
			_, hash, _ := strings.Cut(strings.TrimSpace(string(out)), ":")
			u, _, err := parseHash("u", hash)
			if err != nil {
				t.Fatalf("htpasswd %s %q: %v", flag, pw, err)
			}
			if !u.check([]byte(pw)) {
				t.Errorf("htpasswd %s %q: check: got false, want true", flag, pw)
			}
			if u.check([]byte("!" + pw)) {
				t.Errorf("htpasswd %s %q: check(wrong): got true, want false", flag, pw)
			}
		}
	}
}

// TestCryptVectors checks the libraries against hashes made elsewhere.
func TestCryptVectors(t *testing.T) {
	// apr1 from htpasswd -nbm (the first two) and openssl passwd -apr1 -salt.
	tests := []struct{ password, salt, want string }{
		{"b0b:pass", "JId6s08Y", "cmXsgcdNBtSQQANzrMYeu1"},
		{"password", "PtJ/KgRZ", "OiKGiRsT9VF204PyQLu3n/"},
		{"password", "v5jvDjTw", "Iqliydo8KQbEOaSiacSLM0"},
		{"a much longer password of 40 characters!", "x", "TvcSc5WHVs1XDUUWdLGl.0"},
	}
	for _, tt := range tests {
		hash := "$apr1$" + tt.salt + "$" + tt.want
		u, _, err := parseHash("u", hash)
		if err != nil {
			t.Fatalf("parseHash(%q): %v", hash, err)
		}
		if !u.check([]byte(tt.password)) {
			t.Errorf("apr1 %q with %q: got false, want true", hash, tt.password)
		}
	}
	// Written by htpasswd -nbd, -nb2 and -nb5.
	for hash, want := range map[string]hashKind{
		"ZfgyxUNzkvq3c": hashDES,
		"$5$86BtSbIBmNQ.Uror$URDOo1iEYA0KLfcJDOv/3mG/z2WigUZfDCB0C9tnOf3":                                            hashSHA256,
		"$5$rounds=9000$86BtSbIBmNQ.Uror$URDOo1iEYA0KLfcJDOv/3mG/z2WigUZfDCB0C9tnOf3":                                hashSHA256,
		"$6$16r4/DwQAqGwaQXB$z5N4Pp26e8dTtnuMdshzoPXXa6zkJFAW2QD.Tc9l5PGtNbN4SrHeadQwWSu1PI8nCakMlJXiu.K6dTEaJuaYN/": hashSHA512,
	} {
		u, _, err := parseHash("u", hash)
		if err != nil || u.kind != want {
			t.Errorf("parseHash(%q): got %v, %v; want %v", hash, u, err, want)
		}
	}
}

// Issue 13: a line edgeproxy cannot use is skipped with a warning naming the
// file, the line and the user; the other users still log in.
func TestLoadHtpasswdSkipsLines(t *testing.T) {
	const good = "carol:{SHA}yMoPICcM7ttRggS4O4C64x6kYGo=\n"
	tests := []struct {
		name, body string
		wantErr    error
		wantMsg    string
		secret     string // must not appear in the warning
	}{
		{"plaintext", "\n\npete:plain\n", ErrUnsupportedHash, `:3: user "pete" skipped`, "plain\n"},
		{"ssha", "sid:{SSHA}abcdefghijklmnopqrstuvwxyz012345\n", ErrUnsupportedHash, `:1: user "sid" skipped`, "abcdefg"},
		{"short apr1", "bob:$apr1$JId6s08Y$cmXsgcdNBtSQ\n", ErrHash, `:1: user "bob" skipped`, "cmXsgc"},
		{"apr1 long salt", "bob:$apr1$JId6s08YZ$cmXsgcdNBtSQQANzrMYeu1\n", ErrHash, `:1: user "bob" skipped`, "cmXsgc"},
		{"short sha256 crypt", "dave:$5$86BtSbIBmNQ.Uror$URDOo1iEYA0\n", ErrHash, `:1: user "dave" skipped`, "URDOo1"},
		{"sha512 crypt bad rounds", "sam:$6$rounds=x$16r4/DwQAqGwaQXB$z5N4Pp26e8dTtnuMdshzoPXXa6zkJFAW2QD.Tc9l5PGtNbN4SrHeadQwWSu1PI8nCakMlJXiu.K6dTEaJuaYN/\n", ErrHash, `:1: user "sam" skipped`, "z5N4P"},
		{"bad sha", "dora:{SHA}%%zzQQ\n", ErrHash, `:1: user "dora" skipped`, "%%zzQQ"},
		{"bad bcrypt", "alice:$2y$99$IJO8HC70Taym7gp8GExjMO6L1rIVlYzf4tZKmdYjT6ie8w7Q63Yf.\n", ErrHash, `:1: user "alice" skipped`, "IJO8HC"},
		{"no colon", "# c\nalice\n", ErrLine, ":2: line skipped", ""},
		{"empty user", ":{SHA}yMoPICcM7ttRggS4O4C64x6kYGo=\n", ErrLine, ":1: line skipped", "yMoPI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "htpasswd")
			if err := os.WriteFile(path, []byte(tt.body+good), 0o600); err != nil {
				t.Fatal(err)
			}
			users, warnings, err := loadHtpasswd(path)
			if err != nil {
				t.Fatal(err)
			}
			if users["carol"] == nil || len(users) != 1 {
				t.Errorf("got %d users, want carol alone", len(users))
			}
			if len(warnings) != 1 {
				t.Fatalf("got %q, want one warning", warnings)
			}
			msg := warnings[0]
			if !strings.HasPrefix(msg, path+tt.wantMsg) || !strings.Contains(msg, tt.wantErr.Error()) {
				t.Errorf("got %q, want prefix %q and %q", msg, path+tt.wantMsg, tt.wantErr)
			}
			if tt.secret != "" && strings.Contains(msg, tt.secret) {
				t.Errorf("got %q, which quotes the hash", msg)
			}
		})
	}
}

func TestLoadHtpasswdErrors(t *testing.T) {
	tests := []struct {
		name, body string
		wantErr    error
		wantMsg    string
		secret     string // must not appear in the message
	}{
		{"duplicate", "carol:{SHA}yMoPICcM7ttRggS4O4C64x6kYGo=\r\ncarol:{SHA}yMoPICcM7ttRggS4O4C64x6kYGo=\r\n", ErrDuplicateUser, `:2: user "carol"`, "yMoPI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "htpasswd")
			if err := os.WriteFile(path, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := loadHtpasswd(path)
			var fe *FileError
			if !errors.Is(err, tt.wantErr) || !errors.As(err, &fe) || fe.File != path {
				t.Fatalf("got %v, want %v in a *FileError for %s", err, tt.wantErr, path)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, path+tt.wantMsg) {
				t.Errorf("got %q, want prefix %q", msg, path+tt.wantMsg)
			}
			if tt.secret != "" && strings.Contains(msg, tt.secret) {
				t.Errorf("got %q, which quotes the hash", msg)
			}
		})
	}
}
