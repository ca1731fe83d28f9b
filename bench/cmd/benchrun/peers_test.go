package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var testVars = peerVars{
	Dir: "/tmp/run/001", ShmDir: "/dev/shm/run/001", Listen: "127.0.0.1:40001", Admin: "127.0.0.1:40004", Host: "127.0.0.1", Port: 40001,
	OriginHost: "127.0.0.1", OriginPort: 40002, SourcePort: 40003, CacheBytes: 512 << 20, CacheMiB: 512,
	Cores: 1, MaxFiles: 20000, ConnLimit: 19000,
}

// TestPeerTemplates renders every config in bench/peers (any unknown field
// is an error) and checks the choices the README promises.
func TestPeerTemplates(t *testing.T) {
	peers := filepath.Join("..", "..", "peers")
	dst := t.TempDir()
	want := map[string][]string{
		"squid.conf":                   {"http_port 127.0.0.1:40001", "cache_mem 512 MB", "workers 1", "access_log none", "maximum_object_size_in_memory 2 MB", "acl tunnel_port port 40003"},
		"nginx.conf":                   {"listen 127.0.0.1:40001", "server 127.0.0.1:40002", "keepalive 256", "proxy_pass http://$origin_upstream$request_uri", "proxy_http_version 1.1", "access_log off", "max_size=512m", "/dev/shm/run/001/cache", "$scheme$proxy_host$request_uri"},
		"varnish.vcl":                  {`.port = "40002"`, `req.http.Host != "127.0.0.1:40002"`},
		"tinyproxy.conf":               {"Port 40001", "ConnectPort 40003", "MaxClients"},
		"trafficserver/records.config": {"40001:ip-in=127.0.0.1", "remap_required INT 0", "ram_cache.size INT 536870912", "logging_enabled INT 0", "connect_ports STRING 40003", "connections_throttle INT 19000"},
		"trafficserver/storage.config": {"/dev/shm/run/001/ats 512M"},
		"trafficserver/runroot.yaml":   {"sysconfdir: /tmp/run/001/etc"},
		"edgeproxy.yaml":               {"listen: 127.0.0.1:40001", "admin: 127.0.0.1:40004", "allowed_ports: [40003]", "max_connections: 19000", "memory: 512MiB"},
	}
	for name, needles := range want {
		out := filepath.Join(dst, strings.ReplaceAll(name, "/", "_"))
		if err := render(peers, name, out, testVars); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := os.ReadFile(out)
		for _, n := range needles {
			if !strings.Contains(string(b), n) {
				t.Errorf("%s: missing %q", name, n)
			}
		}
		if strings.Contains(string(b), "{{") {
			t.Errorf("%s: unrendered template left", name)
		}
	}
	args, err := renderArgs(peers, "varnish.args", testVars)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(args, " ")
	for _, n := range []string{"-F", "-a 127.0.0.1:40001", "-s malloc,512m", "-p timeout_idle=60"} {
		if !strings.Contains(joined, n) {
			t.Errorf("varnish.args: missing %q in %q", n, joined)
		}
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "x.conf"), []byte("port {{.Nope}}\n"), 0o644)
	if err := render(bad, "x.conf", filepath.Join(dst, "x"), testVars); err == nil {
		t.Error("a template naming an unknown field: got no error")
	}
}

func TestNotApplicable(t *testing.T) {
	byName := make(map[string]*product)
	for _, p := range products() {
		byName[p.name] = p
	}
	runs := func(p, sc string) bool {
		s, _ := scenarioByName(sc)
		return notApplicable(byName[p], s) == ""
	}
	for _, tc := range []struct {
		product, scenario string
		want              bool
	}{
		{"edgeproxy", "hit-1k-c64", true}, {"edgeproxy", "tunnel-1g", true}, {"edgeproxy", "idle-10k", true},
		{"tinyproxy", "hit-1k-c64", false}, {"tinyproxy", "zipf-mix", false}, {"tinyproxy", "pass-1k-c64", true},
		{"tinyproxy", "tunnel-1g", true}, {"tinyproxy", "idle-10k", false},
		{"nginx", "tunnel-1g", false}, {"varnish", "tunnel-1g", false}, {"squid", "tunnel-1g", true},
		{"trafficserver", "tunnel-1g", true},
		{"ceiling", "hit-1k-c64", true}, {"ceiling", "hit-1k-c1024", true}, {"ceiling", "hit-1m-c16", false},
		{"ceiling", "pass-1k-c64", false}, {"ceiling", "idle-10k", true},
		{"direct", "tunnel-1g", true}, {"direct", "zipf-mix", true},
	} {
		if got := runs(tc.product, tc.scenario); got != tc.want {
			t.Errorf("%s in %s: got runs=%v, want %v", tc.product, tc.scenario, got, tc.want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"-scenarios", "hit-1k-c64,idle-10k", "-products", "squid,direct", "-duration", "3s", "-reps", "1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.scenarios) != 2 || len(c.products) != 2 || c.duration != 3*time.Second || c.reps != 1 {
		t.Errorf("got %+v", c)
	}
	if !strings.HasPrefix(c.out, filepath.Join("bench", "results")) {
		t.Errorf("default out: got %q", c.out)
	}
	for _, bad := range [][]string{
		{"-scenarios", "nope"}, {"-products", "apache"}, {"-duration", "1500ms"}, {"-reps", "0"}, {"-conns-idle", "0"},
	} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q): got no error", bad)
		}
	}
}

func TestSizeBytes(t *testing.T) {
	for in, want := range map[string]int64{"1k": 1024, "1m": 1 << 20, "1g": 1 << 30, "512": 512} {
		if got, err := sizeBytes(in); err != nil || got != want {
			t.Errorf("sizeBytes(%q): got %d, %v; want %d", in, got, err, want)
		}
	}
}
