package main

import (
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
)

// Issue 13: a reload that changes keys only a restart applies says which,
// in the reply to POST /reload and in the log (also for SIGHUP); the proxy
// keeps serving on the old values.
func TestReloadNamesRestartKeys(t *testing.T) {
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	p := startProc(t, "workers: 64\ncache: {memory: 8MiB}\n")
	cfgPath := p.cmd.Args[2]
	reload := func() (int, string) {
		t.Helper()
		resp, err := http.Post("http://"+p.admin+"/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := reload(); code != 200 || body != "configuration reloaded\n" {
		t.Errorf("unchanged file: got %d %q, want 200 %q", code, body, "configuration reloaded\n")
	}

	cfg, _ := os.ReadFile(cfgPath)
	changed := strings.Replace(string(cfg), "listen: \""+p.addr+"\"", "listen: \"127.0.0.1:1\"", 1)
	changed = strings.Replace(changed, "workers: 64", "workers: 32", 1)
	changed = strings.Replace(changed, "memory: 8MiB", "memory: 16MiB", 1)
	changed += "pac: {direct_domains: [example.test]}\n" // reloadable: not listed
	if err := os.WriteFile(cfgPath, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	const want = "configuration reloaded, but these changed keys keep their old values until edgeproxy is restarted: listen, workers, cache.memory\n"
	if code, body := reload(); code != 200 || body != want {
		t.Errorf("changed file: got %d %q, want 200 %q", code, body, want)
	}
	// The log line is written as the reply goes out: wait for it.
	waitFor(t, func() bool {
		return strings.Contains(p.logs.String(), `restart_needed="listen, workers, cache.memory"`)
	})
	_ = p.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, func() bool { return strings.Count(p.logs.String(), "restart_needed=") == 2 })
	// Still serving on the old listen address.
	if out, err := curl(t, "-x", "http://"+p.addr, "http://"+origin+"/"); err != nil || out != "ok" {
		t.Errorf("after the reload: got %q, %v; want ok", out, err)
	}
	// The reloadable key took effect.
	if pac, err := curl(t, "http://"+p.addr+"/proxy.pac"); err != nil || !strings.Contains(pac, "example.test") {
		t.Errorf("proxy.pac after the reload: got %q, %v; want example.test in it", pac, err)
	}
}
