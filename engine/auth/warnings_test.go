package auth

import (
	"strings"
	"testing"
)

// Issue 13: with both files, browsers answer Digest, so users found in only
// one file are named.
func TestWarningsUsersInOneFile(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"both files", Config{BasicFile: "testdata/htpasswd", DigestFile: "testdata/htdigest"},
			[]string{`testdata/htpasswd (htpasswd) cannot log in from a browser, which answers the Digest challenge: "alice", "bob", "carol"`,
				`testdata/htdigest (htdigest, realm "edgeproxy") cannot log in with a client that sends Basic only: "erin"`}},
		{"basic only", Config{BasicFile: "testdata/htpasswd"}, nil},
		{"digest only", Config{DigestFile: "testdata/htdigest"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(a.Warnings(), "\n")
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("got %q, want %q in it", got, w)
				}
			}
			if tt.want == nil && got != "" {
				t.Errorf("got %q, want no warning", got)
			}
		})
	}
}
