package engine

import (
	"reflect"
	"testing"

	"edgeproxy/engine/config"
)

// Issue 13: a reload lists the changed keys it cannot apply, and only those.
func TestRestartKeys(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *config.Config)
		want   []string
	}{
		{"nothing", func(c *config.Config) {}, nil},
		{"reloadable keys only", func(c *config.Config) {
			c.ACL.AllowFile = "/etc/allow"
			c.Auth.Realm = "other"
			c.PAC.DirectDomains = []string{"corp.example"}
			c.Rules = nil
		}, nil},
		{"listen, workers, cache.memory", func(c *config.Config) {
			c.Listen = "127.0.0.1:1"
			c.Workers = 8
			c.Cache.Memory = 8 * config.MiB
		}, []string{"listen", "workers", "cache.memory"}},
		{"pointer and list values", func(c *config.Config) {
			c.Cache.Enabled = new(false)
			c.Tunnel.AllowedPorts = &[]int{443, 8443}
			c.Cache.Dirs = []config.CacheDir{{Path: "/var/cache/edgeproxy", Size: config.GiB}}
		}, []string{"tunnel.allowed_ports", "cache.enabled", "cache.dirs"}},
		{"auth keys read at start-up only", func(c *config.Config) {
			c.Auth.Realm = "other"
			c.Auth.MaxFailures = 3
			c.Auth.HashQueue = 8
		}, []string{"auth.max_failures", "auth.hash_queue"}},
		{"error pages reload", func(c *config.Config) {
			c.Errors.TemplateDir = "/etc/edgeproxy/errors"
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := config.Default()
			tt.change(next)
			if got := restartKeys(config.Default(), next); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
