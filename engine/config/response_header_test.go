package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Issue 12: limits.max_response_header defaults to 64KiB and is bounded.
func TestMaxResponseHeader(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := c.Limits.MaxResponseHeader, 64*KiB; got != want {
		t.Fatalf("default: got %v, want %v", got, want)
	}
	for _, tc := range []struct {
		yaml string
		want Size
		bad  bool
	}{
		{"limits:\n  max_response_header: 8KiB\n", 8 * KiB, false},
		{"limits:\n  max_response_header: 1MiB\n", MiB, false},
		{"limits:\n  max_response_header: 512\n", 0, true},
		{"limits:\n  max_response_header: 2MiB\n", 0, true},
	} {
		path := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path)
		if tc.bad {
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != "limits.max_response_header" {
				t.Fatalf("%q: got %v, want an error on limits.max_response_header", tc.yaml, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		if got := c.Limits.MaxResponseHeader; got != tc.want {
			t.Fatalf("%q: got %v, want %v", tc.yaml, got, tc.want)
		}
	}
}
