package config

import (
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestDefault(t *testing.T) {
	c := Default()
	for _, tc := range []struct {
		key       string
		got, want any
	}{
		{"listen", c.Listen, "127.0.0.1:3128"},
		{"admin", c.Admin, "127.0.0.1:9128"},
		{"workers", c.Workers, 1024},
		{"event_loops", c.EventLoops, 0},
		{"forwarded_for", c.ForwardedFor, ForwardedOn},
		{"timeouts.client_header", c.Timeouts.ClientHeader, Duration(30 * time.Second)},
		{"timeouts.keepalive_idle", c.Timeouts.KeepaliveIdle, Duration(60 * time.Second)},
		{"timeouts.origin_connect", c.Timeouts.OriginConnect, Duration(10 * time.Second)},
		{"timeouts.origin_first_byte", c.Timeouts.OriginFirstByte, Duration(60 * time.Second)},
		{"timeouts.origin_idle", c.Timeouts.OriginIdle, Duration(120 * time.Second)},
		{"timeouts.drain", c.Timeouts.Drain, Duration(30 * time.Second)},
		{"limits.max_header_bytes", c.Limits.MaxHeaderBytes, 64 * KiB},
		{"limits.max_request_line", c.Limits.MaxRequestLine, 8 * KiB},
		{"limits.max_headers", c.Limits.MaxHeaders, 100},
		{"limits.max_connections", c.Limits.MaxConnections, 10000},
		{"limits.max_body_buffer", c.Limits.MaxBodyBuffer, 64 * KiB},
		{"limits.max_pipeline", c.Limits.MaxPipeline, 256 * KiB},
		{"tunnel.allowed_ports", *c.Tunnel.AllowedPorts, []int{443}},
		{"acl.allow_local_destinations", c.ACL.AllowLocalDestinations, false},
		{"acl.safe_ports", *c.ACL.SafePorts, []string{"80", "21", "443", "70", "210", "280", "488", "591", "777", "1025-65535"}},
		{"underscores_in_headers", c.UnderscoresInHeaders, false},
		{"cache.enabled", *c.Cache.Enabled, true},
		{"cache.memory", c.Cache.Memory, 256 * MiB},
		{"cache.large_memory", c.Cache.LargeMemory, GiB},
		{"cache.max_object", c.Cache.MaxObject, 64 * MiB},
		{"cache.heuristic_percent", *c.Cache.HeuristicPercent, 10},
		{"cache.heuristic_max", c.Cache.HeuristicMax, Duration(24 * time.Hour)},
	} {
		t.Run(tc.key, func(t *testing.T) {
			if !reflect.DeepEqual(tc.got, tc.want) {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
	t.Run("name", func(t *testing.T) {
		if !validName(c.Name) {
			t.Errorf("got %q, want a token", c.Name)
		}
	})
	t.Run("validates again unchanged", func(t *testing.T) {
		again := Default()
		if err := again.Validate(); err != nil {
			t.Fatalf("got %v, want nil", err)
		}
		if !reflect.DeepEqual(again, c) {
			t.Errorf("got %+v, want %+v", again, c)
		}
	})
}

func TestExampleIsDefault(t *testing.T) {
	c, err := Load("edgeproxy.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The example writes max_object out, so it is set rather than defaulted.
	want := Default()
	want.Cache.maxObjectDefault = 0
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v, want %+v", c, want)
	}
}

func TestEmptyIsDefault(t *testing.T) {
	for _, tc := range []struct{ name, data string }{
		{"empty", ""},
		{"comments", "# nothing here\n"},
		{"null", "~\n"},
		{"empty sections", "timeouts:\nlimits:\ncache:\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.data), "test.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if want := Default(); !reflect.DeepEqual(c, want) {
				t.Errorf("got %+v, want %+v", c, want)
			}
		})
	}
}

// TestKeys sets every key to a value other than its default and checks that
// it lands in the right field and nowhere else.
func TestKeys(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want func(c *Config)
	}{
		{"listen: :8080", func(c *Config) { c.Listen = ":8080" }},
		{"listen: '[::1]:3128'", func(c *Config) { c.Listen = "[::1]:3128" }},
		{"listen: 127.0.0.1:0", func(c *Config) { c.Listen = "127.0.0.1:0" }},
		{"admin: localhost:9000", func(c *Config) { c.Admin = "localhost:9000" }},
		{"admin: off", func(c *Config) { c.Admin = AdminOff }},
		{"name: cache-1.example", func(c *Config) { c.Name = "cache-1.example" }},
		{"workers: 8", func(c *Config) { c.Workers = 8 }},
		{"event_loops: 4", func(c *Config) { c.EventLoops = 4 }},
		{"forwarded_for: off", func(c *Config) { c.ForwardedFor = ForwardedOff }},
		{"forwarded_for: transparent", func(c *Config) { c.ForwardedFor = ForwardedTransparent }},
		{"forwarded_for: delete", func(c *Config) { c.ForwardedFor = ForwardedDelete }},
		{"timeouts: {client_header: 5s}", func(c *Config) { c.Timeouts.ClientHeader = Duration(5 * time.Second) }},
		{"timeouts: {keepalive_idle: 1m30s}", func(c *Config) { c.Timeouts.KeepaliveIdle = Duration(90 * time.Second) }},
		{"timeouts: {origin_connect: 250ms}", func(c *Config) { c.Timeouts.OriginConnect = Duration(250 * time.Millisecond) }},
		{"timeouts: {origin_first_byte: 5m}", func(c *Config) { c.Timeouts.OriginFirstByte = Duration(5 * time.Minute) }},
		{"timeouts: {origin_idle: 1h}", func(c *Config) { c.Timeouts.OriginIdle = Duration(time.Hour) }},
		{"timeouts: {drain: 1s}", func(c *Config) { c.Timeouts.Drain = Duration(time.Second) }},
		{"limits: {max_header_bytes: 1MiB}", func(c *Config) { c.Limits.MaxHeaderBytes = MiB }},
		{"limits: {max_request_line: 512B}", func(c *Config) { c.Limits.MaxRequestLine = 512 }},
		{"limits: {max_headers: 50}", func(c *Config) { c.Limits.MaxHeaders = 50 }},
		{"limits: {max_connections: 20000}", func(c *Config) { c.Limits.MaxConnections = 20000 }},
		{"limits: {max_body_buffer: 1MiB}", func(c *Config) { c.Limits.MaxBodyBuffer = MiB }},
		{"limits: {max_pipeline: 1024}", func(c *Config) { c.Limits.MaxPipeline = KiB }},
		{"tunnel: {allowed_ports: [443, 8443]}", func(c *Config) { c.Tunnel.AllowedPorts = &[]int{443, 8443} }},
		{"tunnel: {allowed_ports: []}", func(c *Config) { c.Tunnel.AllowedPorts = &[]int{} }},
		{"acl: {allow_local_destinations: true}", func(c *Config) { c.ACL.AllowLocalDestinations = true }},
		{"acl: {safe_ports: [80, 8000-9000]}", func(c *Config) { c.ACL.SafePorts = &[]string{"80", "8000-9000"} }},
		{"acl: {safe_ports: []}", func(c *Config) { c.ACL.SafePorts = &[]string{} }},
		{"underscores_in_headers: true", func(c *Config) { c.UnderscoresInHeaders = true }},
		{"cache: {enabled: false}", func(c *Config) { c.Cache.Enabled = new(false) }},
		{"cache: {memory: 1MiB}", func(c *Config) { c.Cache.Memory = MiB }},
		{"cache: {memory: 0}", func(c *Config) {}},
		{"cache: {large_memory: 2GiB}", func(c *Config) { c.Cache.LargeMemory = 2 * GiB }},
		{"cache: {max_object: 1GiB}", func(c *Config) { c.Cache.MaxObject, c.Cache.maxObjectDefault = GiB, 0 }},
		{"cache: {heuristic_percent: 0}", func(c *Config) { c.Cache.HeuristicPercent = new(0) }},
		{"cache: {heuristic_percent: 100}", func(c *Config) { c.Cache.HeuristicPercent = new(100) }},
		{"cache: {heuristic_max: 1h}", func(c *Config) { c.Cache.HeuristicMax = Duration(time.Hour) }},
		{"cache: {admission: false}", func(c *Config) { c.Cache.Admission = new(false) }},
		{"refresh_ahead: {enabled: false}", func(c *Config) { c.RefreshAhead.Enabled = new(false) }},
		{"refresh_ahead: {min_rate: 2}", func(c *Config) { c.RefreshAhead.MinRate = 2 }},
		{"refresh_ahead: {min_rate: 0.05}", func(c *Config) { c.RefreshAhead.MinRate = 0.05 }},
		{"refresh_ahead: {lead_percent: 25}", func(c *Config) { c.RefreshAhead.LeadPercent = 25 }},
		{"refresh_ahead: {max_concurrent: 2}", func(c *Config) { c.RefreshAhead.MaxConcurrent = 2 }},
		{"refresh_ahead: {max_bandwidth: 1MiB}", func(c *Config) { c.RefreshAhead.MaxBandwidth = MiB }},
		{"refresh_ahead: {max_load: 1}", func(c *Config) { c.RefreshAhead.MaxLoad = 1 }},
		{"prefetch: {enabled: true}", func(c *Config) { c.Prefetch.Enabled = true }},
		{"prefetch: {window: 4}", func(c *Config) { c.Prefetch.Window = 4 }},
		{"prefetch: {threshold: 0.5}", func(c *Config) { c.Prefetch.Threshold = 0.5 }},
		{"prefetch: {threshold: 1}", func(c *Config) { c.Prefetch.Threshold = 1 }},
		{"prefetch: {min_count: 5}", func(c *Config) { c.Prefetch.MinCount = 5 }},
		{"prefetch: {schedule: '22:00-06:00'}", func(c *Config) { c.Prefetch.Schedule = "22:00-06:00" }},
		{"prefetch: {max_bandwidth: 100KiB}", func(c *Config) { c.Prefetch.MaxBandwidth = 100 * KiB }},
		{"prefetch: {max_object: 512KiB}", func(c *Config) { c.Prefetch.MaxObject = 512 * KiB }},
		{"prefetch: {max_concurrent: 16}", func(c *Config) { c.Prefetch.MaxConcurrent = 16 }},
		{"prefetch: {max_load: 0.9}", func(c *Config) { c.Prefetch.MaxLoad = 0.9 }},
		{"prefetch: {max_nodes: 1000}", func(c *Config) { c.Prefetch.MaxNodes = 1000 }},
		{"prefetch: {seed_log: /var/log/access.log}", func(c *Config) { c.Prefetch.SeedLog = "/var/log/access.log" }},
		{"timeouts: {client_header: &t 5s, drain: *t}", func(c *Config) {
			c.Timeouts.ClientHeader = Duration(5 * time.Second)
			c.Timeouts.Drain = Duration(5 * time.Second)
		}},
	} {
		t.Run(tc.yaml, func(t *testing.T) {
			got, err := Parse([]byte(tc.yaml), "test.yaml")
			if err != nil {
				t.Fatalf("got %q, want no error", err)
			}
			want := Default()
			tc.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestAllowedPorts(t *testing.T) {
	for _, tc := range []struct {
		yaml      string
		port      int
		want      bool
		wantPorts []int
	}{
		{"", 443, true, []int{443}},
		{"", 8443, false, []int{443}},
		{"tunnel: {}", 443, true, []int{443}},
		{"tunnel: {allowed_ports: []}", 443, false, []int{}},
		{"tunnel:\n  allowed_ports:\n    - 8443\n", 8443, true, []int{8443}},
	} {
		t.Run(tc.yaml, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml), "test.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if got := *c.Tunnel.AllowedPorts; !reflect.DeepEqual(got, tc.wantPorts) {
				t.Errorf("got %v, want %v", got, tc.wantPorts)
			}
			if got := c.Tunnel.Allows(tc.port); got != tc.want {
				t.Errorf("Allows(%d): got %v, want %v", tc.port, got, tc.want)
			}
		})
	}
	if (Tunnel{}).Allows(443) != true {
		t.Errorf("zero Tunnel: got false, want true for 443")
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.yaml")
	_, err := Load(path)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want *Error", err, err)
	}
	if e.File != path {
		t.Errorf("File: got %q, want %q", e.File, path)
	}
	if want := "cannot read the file: no such file or directory"; e.Reason != want {
		t.Errorf("Reason: got %q, want %q", e.Reason, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %v, want an error matching fs.ErrNotExist", err)
	}
	if want := path + ": cannot read the file: no such file or directory"; err.Error() != want {
		t.Errorf("got %q, want %q", err.Error(), want)
	}
}
