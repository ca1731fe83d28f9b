package config

import (
	"errors"
	"testing"
)

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want Error // File is always "edgeproxy.yaml"
	}{
		{"unknown top-level key", "listen: :3128\nlogging: debug\n",
			Error{Line: 2, Key: "logging", Reason: "unknown key"}},
		{"misspelt top-level key", "worker: 4\n",
			Error{Line: 1, Key: "worker", Reason: "unknown key (did you mean workers?)"}},
		{"unknown nested key", "timeouts:\n  drain: 5s\n  client_headr: 5s\n",
			Error{Line: 3, Key: "timeouts.client_headr", Reason: "unknown key (did you mean client_header?)"}},
		{"feature not built", "cache:\n  disk_path: /var/cache\n",
			Error{Line: 2, Key: "cache.disk_path", Reason: "unknown key"}},
		{"duplicate key", "workers: 4\nworkers: 5\n",
			Error{Line: 2, Key: "workers", Reason: "duplicate key (first set on line 1)"}},
		{"string for list", "tunnel:\n  allowed_ports: 443\n",
			Error{Line: 2, Key: "tunnel.allowed_ports", Reason: `"443" is not a list (write [443, 8443], or [] for none)`}},
		{"string in list", "tunnel:\n  allowed_ports:\n    - 443\n    - https\n",
			Error{Line: 4, Key: "tunnel.allowed_ports[1]", Reason: `"https" is not an integer`}},
		{"port out of range", "tunnel:\n  allowed_ports: [443,\n    70000]\n",
			Error{Line: 3, Key: "tunnel.allowed_ports[1]", Reason: "70000 is not a port (1 to 65535)"}},
		{"safe port range reversed", "acl:\n  safe_ports: [80, 9000-8000]\n",
			Error{Line: 2, Key: "acl.safe_ports[1]", Reason: `"9000-8000" is not a port or a range of ports (write 443 or 1025-65535, within 1 to 65535)`}},
		{"safe port out of range", "acl:\n  safe_ports:\n    - 80\n    - 1025-70000\n",
			Error{Line: 4, Key: "acl.safe_ports[1]", Reason: `"1025-70000" is not a port or a range of ports (write 443 or 1025-65535, within 1 to 65535)`}},
		{"list for mapping", "timeouts: [30s]\n",
			Error{Line: 1, Key: "timeouts", Reason: "a list is not a mapping of keys to values"}},
		{"string for int", "workers: many\n",
			Error{Line: 1, Key: "workers", Reason: `"many" is not an integer`}},
		{"float for int", "workers: 1.5\n",
			Error{Line: 1, Key: "workers", Reason: `"1.5" is not an integer`}},
		{"yes for bool", "cache:\n  enabled: yes\n",
			Error{Line: 2, Key: "cache.enabled", Reason: `"yes" is not true or false`}},
		{"no value", "listen:\n",
			Error{Line: 1, Key: "listen", Reason: "no value given (remove the key to use the default)"}},
		{"empty admin", "admin: ''\n",
			Error{Line: 1, Key: "admin", Reason: `empty value (write "off" to disable the admin listener)`}},
		{"bad duration", "timeouts:\n  client_header: abc\n",
			Error{Line: 2, Key: "timeouts.client_header", Reason: `"abc" is not a duration (write 30s, 5m)`}},
		{"bare duration", "timeouts:\n  drain: 30\n",
			Error{Line: 2, Key: "timeouts.drain", Reason: "30 has no unit: add one (write 30s for seconds, 30ms for milliseconds)"}},
		{"negative duration", "timeouts:\n  origin_idle: -1s\n",
			Error{Line: 2, Key: "timeouts.origin_idle", Reason: "-1s is negative; it must be greater than zero"}},
		{"bad size", "limits:\n  max_pipeline: 12XB\n",
			Error{Line: 2, Key: "limits.max_pipeline", Reason: `"12XB" is not a size (write 512B, 64KiB, 256MiB, 1GiB)`}},
		{"negative size", "cache:\n  memory: -1\n",
			Error{Line: 2, Key: "cache.memory", Reason: `"-1" is negative; a size counts bytes`}},
		{"listen without port", "listen: 127.0.0.1\n",
			Error{Line: 1, Key: "listen", Reason: `"127.0.0.1" is not host:port (write 127.0.0.1:3128 or :3128)`}},
		{"listen with named port", "listen: localhost:http\n",
			Error{Line: 1, Key: "listen", Reason: `"localhost:http": port "http" is not a number from 0 to 65535`}},
		{"listen with bad host", "listen: 'my host:3128'\n",
			Error{Line: 1, Key: "listen", Reason: `"my host:3128": "my host" is not an IP address or host name`}},
		{"admin false", "admin: false\n",
			Error{Line: 1, Key: "admin", Reason: `"false" is not host:port (write 127.0.0.1:9128, or "off" to disable it)`}},
		{"admin on listen", "listen: 127.0.0.1:3128\nadmin: 127.0.0.1:3128\n",
			Error{Line: 2, Key: "admin", Reason: `"127.0.0.1:3128" is also the listen address`}},
		{"name with space", "name: my proxy\n",
			Error{Line: 1, Key: "name", Reason: "\"my proxy\" is not a token of at most 255 bytes (letters, digits and !#$%&'*+-.^_`|~, no spaces or commas)"}},
		{"name with comma", "name: a,b\n",
			Error{Line: 1, Key: "name", Reason: "\"a,b\" is not a token of at most 255 bytes (letters, digits and !#$%&'*+-.^_`|~, no spaces or commas)"}},
		{"workers too many", "workers: 1000001\n",
			Error{Line: 1, Key: "workers", Reason: "1000001 is out of range (1 to 1000000)"}},
		{"workers negative", "workers: -1\n",
			Error{Line: 1, Key: "workers", Reason: "-1 is out of range (1 to 1000000)"}},
		{"event loops", "event_loops: 257\n",
			Error{Line: 1, Key: "event_loops", Reason: "257 is out of range (0 to 256)"}},
		{"forwarded_for", "forwarded_for: yes\n",
			Error{Line: 1, Key: "forwarded_for", Reason: `"yes" is not one of on, off, transparent, delete`}},
		{"header bytes too large", "limits:\n  max_header_bytes: 2MiB\n",
			Error{Line: 2, Key: "limits.max_header_bytes", Reason: "2MiB is out of range (1KiB to 1MiB)"}},
		{"request line above header", "limits:\n  max_header_bytes: 4KiB\n  max_request_line: 8KiB\n",
			Error{Line: 3, Key: "limits.max_request_line", Reason: "8KiB is out of range (256B to 4KiB)"}},
		{"request line default above header", "limits:\n  max_header_bytes: 4KiB\n",
			Error{Line: 0, Key: "limits.max_request_line", Reason: "8KiB is out of range (256B to 4KiB)"}},
		{"max headers", "limits:\n  max_headers: 20000\n",
			Error{Line: 2, Key: "limits.max_headers", Reason: "20000 is out of range (1 to 10000)"}},
		{"body buffer", "limits:\n  max_body_buffer: 17MiB\n",
			Error{Line: 2, Key: "limits.max_body_buffer", Reason: "17MiB is out of range (1B to 16MiB)"}},
		{"cache memory too small", "cache:\n  memory: 64KiB\n",
			Error{Line: 2, Key: "cache.memory", Reason: "64KiB is below the minimum, 1MiB"}},
		{"max object above large memory", "cache:\n  large_memory: 32MiB\n  max_object: 64MiB\n",
			Error{Line: 3, Key: "cache.max_object", Reason: "64MiB is larger than cache.large_memory (32MiB)"}},
		{"heuristic percent", "cache:\n  heuristic_percent: 101\n",
			Error{Line: 2, Key: "cache.heuristic_percent", Reason: "101 is out of range (0 to 100)"}},
		{"threshold above one", "prefetch:\n  threshold: 1.5\n",
			Error{Line: 2, Key: "prefetch.threshold", Reason: "1.5 is out of range (above 0, at most 1)"}},
		{"string for number", "refresh_ahead:\n  min_rate: often\n",
			Error{Line: 2, Key: "refresh_ahead.min_rate", Reason: `"often" is not a number`}},
		{"negative rate", "refresh_ahead:\n  min_rate: -1\n",
			Error{Line: 2, Key: "refresh_ahead.min_rate", Reason: "-1 is out of range (above 0)"}},
		{"lead percent", "refresh_ahead:\n  lead_percent: 80\n",
			Error{Line: 2, Key: "refresh_ahead.lead_percent", Reason: "80 is out of range (1 to 50)"}},
		{"prefetch window", "prefetch:\n  window: 65\n",
			Error{Line: 2, Key: "prefetch.window", Reason: "65 is out of range (1 to 64)"}},
		{"schedule", "prefetch:\n  schedule: nights\n",
			Error{Line: 2, Key: "prefetch.schedule", Reason: `prefetch: bad schedule: "nights" is not HH:MM-HH:MM (write "any", or ranges such as 22:00-06:00)`}},
		{"load above one", "prefetch:\n  max_load: 2\n",
			Error{Line: 2, Key: "prefetch.max_load", Reason: "2 is out of range (above 0, at most 1)"}},
		{"not a mapping", "- listen\n",
			Error{Line: 1, Reason: "a list is not a mapping of keys to values"}},
		{"syntax", "listen: :3128\n  workers: 4\n",
			Error{Line: 2, Reason: "invalid YAML: mapping values are not allowed in this context"}},
		{"two documents", "workers: 4\n---\nworkers: 5\n",
			Error{Line: 2, Reason: "a second YAML document (after ---) is not allowed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml), "edgeproxy.yaml")
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %T %v (config %+v), want *Error", err, err, c)
			}
			want := tc.want
			want.File = "edgeproxy.yaml"
			got := *e
			got.Err = nil
			if got != want {
				t.Errorf("got %q, want %q", got.Error(), want.Error())
				t.Errorf("got %#v, want %#v", got, want)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	for _, tc := range []struct {
		err  Error
		want string
	}{
		{Error{File: "edgeproxy.yaml", Line: 12, Key: "timeouts.client_header", Reason: `"abc" is not a duration (write 30s, 5m)`},
			`edgeproxy.yaml:12: timeouts.client_header: "abc" is not a duration (write 30s, 5m)`},
		{Error{File: "edgeproxy.yaml", Key: "cache.max_object", Reason: "too large"},
			"edgeproxy.yaml: cache.max_object: too large"},
		{Error{File: "/etc/edgeproxy.yaml", Reason: "cannot read the file: permission denied"},
			"/etc/edgeproxy.yaml: cannot read the file: permission denied"},
		{Error{Key: "workers", Reason: "-1 is out of range (1 to 1000000)"},
			"config: workers: -1 is out of range (1 to 1000000)"},
		{Error{Line: 3, Reason: "invalid YAML"}, "config: line 3: invalid YAML"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestValidateConfigBuiltInCode(t *testing.T) {
	c := &Config{Workers: -2, Tunnel: Tunnel{AllowedPorts: &[]int{}}}
	err := c.Validate()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want *Error", err, err)
	}
	if want := (Error{Key: "workers", Reason: "-2 is out of range (1 to 1000000)"}); *e != want {
		t.Errorf("got %q, want %q", e.Error(), want.Error())
	}
}
