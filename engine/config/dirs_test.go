package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestCacheDirs(t *testing.T) {
	c, err := Parse([]byte("cache:\n  dirs:\n    - path: /var/cache/edgeproxy/d1\n      size: 200GiB\n    - path: d2\n      size: 4MiB\n"), "test.yaml")
	if err != nil {
		t.Fatalf("got %q, want no error", err)
	}
	want := []CacheDir{{Path: "/var/cache/edgeproxy/d1", Size: 200 * GiB}, {Path: "d2", Size: 4 * MiB}}
	if !reflect.DeepEqual(c.Cache.Dirs, want) {
		t.Errorf("got %+v, want %+v", c.Cache.Dirs, want)
	}
	c, err = Parse([]byte("cache:\n  dirs: []\n"), "test.yaml")
	if err != nil || !reflect.DeepEqual(c, Default()) {
		t.Errorf("dirs: []: got %+v, %v; want the default (memory only)", c, err)
	}
}

func TestCacheDirsInvalid(t *testing.T) {
	for _, tc := range []struct {
		yaml, key, reason string
		line              int
	}{
		{"cache:\n  dirs:\n    - path: /a\n", "cache.dirs[0]", "no size", 3},
		{"cache:\n  dirs:\n    - size: 1GiB\n", "cache.dirs[0]", "no path", 3},
		{"cache:\n  dirs:\n    - path: /a\n      size: 1MiB\n", "cache.dirs[0].size", "out of range", 4},
		{"cache:\n  dirs:\n    - {path: /a, size: 1GiB}\n    - {path: /a/, size: 1GiB}\n", "cache.dirs[1].path", "also cache.dirs[0]", 4},
		{"cache:\n  dirs:\n    - {path: /a, sise: 1GiB}\n", "cache.dirs[0].sise", "unknown key", 3},
		{"cache:\n  dirs: /a\n", "cache.dirs", "not a list", 2},
	} {
		t.Run(tc.key, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "test.yaml")
			var e *Error
			if !errors.As(err, &e) || e.Key != tc.key || !strings.Contains(e.Reason, tc.reason) || e.Line != tc.line {
				t.Errorf("got %v (%+v), want key %s line %d reason containing %q", err, e, tc.key, tc.line, tc.reason)
			}
		})
	}
}
