package config

import (
	"strings"
	"testing"
	"time"
)

// Issue 11: the keys that bound what one client can hold, with their
// defaults and their ranges.
func TestClientLimitKeys(t *testing.T) {
	d := Default()
	for _, tc := range []struct {
		key       string
		got, want any
	}{
		{"timeouts.client_body", d.Timeouts.ClientBody, Duration(20 * time.Second)},
		{"limits.max_connections_per_client", d.Limits.MaxConnectionsPerClient, 0},
		{"limits.max_workers_per_client", d.Limits.MaxWorkersPerClient, 0},
		{"limits.min_body_rate", d.Limits.MinBodyRate, Size(500)},
		{"cache.quick_abort_min", *d.Cache.QuickAbortMin, 16 * KiB},
		{"cache.quick_abort_max", *d.Cache.QuickAbortMax, 16 * KiB},
		{"cache.quick_abort_pct", *d.Cache.QuickAbortPct, 95},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.key, tc.got, tc.want)
		}
	}

	for _, tc := range []struct {
		yaml  string
		check func(c *Config) bool
	}{
		{"limits: {max_connections_per_client: 4}", func(c *Config) bool { return c.Limits.MaxConnectionsPerClient == 4 }},
		{"workers: 8\nlimits: {max_workers_per_client: 8}", func(c *Config) bool { return c.Limits.MaxWorkersPerClient == 8 }},
		{"limits: {min_body_rate: 1KiB}", func(c *Config) bool { return c.Limits.MinBodyRate == KiB }},
		{"timeouts: {client_body: 5s}", func(c *Config) bool { return c.Timeouts.ClientBody == Duration(5*time.Second) }},
		{"cache: {quick_abort_min: 0, quick_abort_max: 1MiB, quick_abort_pct: 0}", func(c *Config) bool {
			return *c.Cache.QuickAbortMin == 0 && *c.Cache.QuickAbortMax == MiB && *c.Cache.QuickAbortPct == 0
		}},
	} {
		c, err := Parse([]byte(tc.yaml), "test.yaml")
		if err != nil || !tc.check(c) {
			t.Errorf("%q: got %v, want the key set", tc.yaml, err)
		}
	}

	for _, tc := range []struct{ yaml, key string }{
		{"workers: 8\nlimits: {max_workers_per_client: 9}", "limits.max_workers_per_client"},
		{"limits: {max_connections: 10, max_connections_per_client: 11}", "limits.max_connections_per_client"},
		{"cache: {quick_abort_pct: 101}", "cache.quick_abort_pct"},
	} {
		_, err := Parse([]byte(tc.yaml), "test.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%q: got %v, want an error naming %s", tc.yaml, err, tc.key)
		}
	}
}
