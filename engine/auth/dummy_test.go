package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/GehirnInc/crypt"
	"golang.org/x/crypto/bcrypt"
)

// Issue 11: an unknown user's password is hashed like a known user's, so
// the 407 does not come back sooner and tell which names exist. The test
// counts the costly comparisons rather than timing them.
func TestUnknownUserCostsAKnownUsersHash(t *testing.T) {
	a, err := New(Config{BasicFile: "testdata/htpasswd"})
	if err != nil {
		t.Fatal(err)
	}
	const m, uri = "GET", "http://x.test/"
	tests := []struct {
		name   string
		header []byte
	}{
		{"known bcrypt user, wrong password", basicHeader("alice", "wonderland")},
		{"known apr1 user, wrong password", basicHeader("bob", "bob")},
		{"unknown user", basicHeader("mallory", "wonder land")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, res := a.QuickCheck([]byte(m), []byte(uri), tt.header); res != NeedSlowPath {
				t.Fatalf("QuickCheck: got %v, want %v", res, NeedSlowPath)
			}
			before := a.hashes.Load()
			if _, ok := a.SlowCheck([]byte(m), []byte(uri), tt.header); ok {
				t.Fatal("SlowCheck accepted a wrong password")
			}
			if got := a.hashes.Load() - before; got != 1 {
				t.Errorf("costly hash comparisons: got %d, want 1", got)
			}
		})
	}
}

// The dummy entry has the kind, and for bcrypt the highest cost, of the
// costliest entries in the file, and matches no password.
func TestDummyUser(t *testing.T) {
	dir := t.TempDir()
	h4, _ := bcrypt.GenerateFromPassword([]byte("p"), 4)
	h6, _ := bcrypt.GenerateFromPassword([]byte("p"), 6)
	s512, err := crypt.SHA512.New().Generate([]byte("p"), []byte("$6$rounds=7000$abcdefgh"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		file     string
		wantKind hashKind
		wantCost int
		prefix   string // the dummy hash's scheme and rounds
	}{
		{"bcrypt at the highest cost", "a:" + string(h4) + "\nb:" + string(h6) + "\nc:$apr1$JId6s08Y$cmXsgcdNBtSQQANzrMYeu1\n", hashBcrypt, 6, "$2a$06$"},
		{"apr1 without bcrypt", "b:$apr1$JId6s08Y$cmXsgcdNBtSQQANzrMYeu1\nc:{SHA}yMoPICcM7ttRggS4O4C64x6kYGo=\n", hashAPR1, 0, "$apr1$"},
		{"sha only", "c:{SHA}yMoPICcM7ttRggS4O4C64x6kYGo=\n", hashSHA, 0, ""},
		{"SHA-512-crypt keeps its rounds", "b:$apr1$JId6s08Y$cmXsgcdNBtSQQANzrMYeu1\nd:" + s512 + "\n", hashSHA512, 0, "$6$rounds=7000$"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, string(rune('a'+i)))
			if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			a, err := New(Config{BasicFile: path})
			if err != nil {
				t.Fatal(err)
			}
			if a.dummy.kind != tt.wantKind {
				t.Fatalf("kind: got %d, want %d", a.dummy.kind, tt.wantKind)
			}
			if tt.wantKind == hashBcrypt {
				if cost, _ := bcrypt.Cost([]byte(a.dummy.hash)); cost != tt.wantCost {
					t.Errorf("cost: got %d, want %d", cost, tt.wantCost)
				}
			}
			if !strings.HasPrefix(a.dummy.hash, tt.prefix) {
				t.Errorf("dummy hash %q: want the prefix %q", a.dummy.hash, tt.prefix)
			}
			for _, pw := range []string{"", "p", "Ca.rol!", "b0b:pass"} {
				if a.dummy.check([]byte(pw)) {
					t.Errorf("dummy matched %q", pw)
				}
			}
			if _, res := a.QuickCheck([]byte("GET"), []byte("http://x.test/"), basicHeader("nobody", "Ca.rol!")); res == Authenticated {
				t.Errorf("unknown user authenticated")
			}
		})
	}
}
