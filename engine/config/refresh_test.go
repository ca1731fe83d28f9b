package config

import (
	"errors"
	"testing"
	"time"
)

// Issue 17: cache.refresh_rules parses like Squid's refresh_pattern lines,
// and a bad rule names its key.
func TestRefreshRules(t *testing.T) {
	c, err := Parse([]byte(`cache:
  refresh_rules:
    - {pattern: '\.deb$', min: 720h, percent: 100, max: 8760h, immutable: true}
    - {pattern: '/(Release|InRelease|Packages(\.gz|\.xz)?)$', min: 0s, percent: 0, max: 0s}
    - {pattern: '\.EXE$', ignore_case: true, min: 1h, percent: 50, max: 168h}
`), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules := c.Cache.RefreshRules
	if len(rules) != 3 || !rules[0].Immutable || rules[0].Max != Duration(8760*time.Hour) || rules[2].Percent != 50 {
		t.Fatalf("got %+v", rules)
	}
	re, err := rules[2].Regexp()
	if err != nil || !re.MatchString("http://h/setup.exe") {
		t.Errorf("ignore_case: got %v, %v; want a case-insensitive match", re, err)
	}
	for _, tc := range []struct{ yaml, key string }{
		{"cache: {refresh_rules: [{min: 1h, max: 2h}]}", "cache.refresh_rules[0].pattern"},
		{"cache: {refresh_rules: [{pattern: '(', max: 2h}]}", "cache.refresh_rules[0].pattern"},
		{"cache: {refresh_rules: [{pattern: x, percent: 101}]}", "cache.refresh_rules[0].percent"},
		{"cache: {refresh_rules: [{pattern: x, min: 2h, max: 1h}]}", "cache.refresh_rules[0].max"},
	} {
		_, err := Parse([]byte(tc.yaml), "test.yaml")
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != tc.key {
			t.Errorf("%s: got %v, want an error about %s", tc.yaml, err, tc.key)
		}
	}
}
