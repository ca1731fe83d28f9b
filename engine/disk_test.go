package engine

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"edgeproxy/engine/config"
)

// runDiskProxy starts a Server whose cache has the disk tier in dir, and
// returns it with an idempotent stop (a clean shutdown: the store writes
// its index).
func runDiskProxy(t *testing.T, dir string, mutate func(*config.Config)) (*Server, func()) {
	t.Helper()
	cfg := config.Default()
	cfg.Listen, cfg.Admin, cfg.Name = "127.0.0.1:0", config.AdminOff, "edgeproxy-test"
	cfg.EventLoops = 2
	cfg.Log.Path = config.LogOff
	cfg.ACL.AllowLocalDestinations = true // the test origins are on loopback
	cfg.Cache.Dirs = []config.CacheDir{{Path: dir, Size: 16 * config.MiB}}
	if mutate != nil {
		mutate(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	select {
	case <-s.Ready():
	case err := <-errc:
		t.Fatalf("Serve: %v", err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = s.Shutdown(ctx)
			<-errc
		})
	}
	t.Cleanup(stop)
	return s, stop
}

// waitStored waits until the disk tier has stored n objects in all.
func waitStored(t *testing.T, s *Server, n int64) {
	t.Helper()
	if !eventually(5*time.Second, func() bool {
		var got int64
		for _, d := range s.disk.stats() {
			got += d.Stored
		}
		return got >= n
	}) {
		t.Fatalf("disk stored %+v, want %d objects", s.disk.stats(), n)
	}
}

// An object written behind to disk is served from it after a restart,
// without the origin; a range and a conditional request are answered from
// it too, and the second disk hit copies it back into memory.
func TestDiskServesAfterRestart(t *testing.T) {
	body := patternBody(700<<10, 3) // three chunk records
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("ETag", `"d1"`)
		_, _ = w.Write(body)
	})
	dir := t.TempDir()
	u := o.URL + "/disk"
	s, stop := runDiskProxy(t, dir, nil)
	resp, got := cacheGet(t, s, u)
	wantMiss(t, resp, "first fetch")
	waitStored(t, s, 1)
	stop()

	s, _ = runDiskProxy(t, dir, nil)
	resp, got = cacheGet(t, s, u)
	wantHit(t, resp, "after restart")
	if !bytes.Equal([]byte(got), body) {
		t.Fatalf("disk hit: %d bytes, want the %d stored", len(got), len(body))
	}
	resp, got = cacheGet(t, s, u, "Range: bytes=300000-300009")
	if resp.StatusCode != 206 || got != string(body[300000:300010]) {
		t.Errorf("range from disk: %d %q, want 206 %q", resp.StatusCode, got, body[300000:300010])
	}
	resp, _ = cacheGet(t, s, u, `If-None-Match: "d1"`)
	if resp.StatusCode != 304 {
		t.Errorf("conditional from disk: %d, want 304", resp.StatusCode)
	}
	if ds := s.disk.stats()[0]; ds.Promoted != 0 || ds.Served != 3 {
		t.Errorf("served %d from disk, promoted %d; want 3 and 0 (no whole body sent yet)", ds.Served, ds.Promoted)
	}
	if resp, got = cacheGet(t, s, u); !isHit(resp) || got != string(body) {
		t.Errorf("fourth disk hit: %q, %d bytes", resp.Header.Get("X-Cache"), len(got))
	}
	wantOrigin(t, o, 1, "disk hits")
	if ds := s.disk.stats()[0]; ds.Promoted != 1 || ds.Served != 4 {
		t.Errorf("served %d from disk, promoted %d; want 4 and 1", ds.Served, ds.Promoted)
	}
	resp, got = cacheGet(t, s, u)
	wantHit(t, resp, "after promotion")
	if got != string(body) || s.disk.stats()[0].Served != 4 {
		t.Errorf("after promotion: %d bytes, %d served from disk; want a memory hit", len(got), s.disk.stats()[0].Served)
	}
}

// The disk keeps one variant per URL: another variant misses on disk.
// PURGE removes the disk copy as well as the memory one.
func TestDiskVaryAndPurge(t *testing.T) {
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Vary", "Accept-Language")
		_, _ = w.Write([]byte("lang=" + r.Header.Get("Accept-Language") + " n=" + strconv.Itoa(n)))
	})
	dir := t.TempDir()
	u := o.URL + "/v"
	s, stop := runDiskProxy(t, dir, nil)
	cacheGet(t, s, u, "Accept-Language: en")
	waitStored(t, s, 1)
	stop()

	s, stop = runDiskProxy(t, dir, nil)
	if resp, got := cacheGet(t, s, u, "Accept-Language: en"); !isHit(resp) || got != "lang=en n=1" {
		t.Errorf("same variant after restart: %q %q, want a hit of n=1", resp.Header.Get("X-Cache"), got)
	}
	if resp, got := cacheGet(t, s, u, "Accept-Language: fr"); isHit(resp) || got != "lang=fr n=2" {
		t.Errorf("other variant: %q %q, want a miss", resp.Header.Get("X-Cache"), got)
	}
	waitStored(t, s, 1)
	if resp, _ := cacheDo(t, s, "PURGE", u, ""); resp.StatusCode != 200 {
		t.Errorf("PURGE: %d, want 200", resp.StatusCode)
	}
	stop()
	s, _ = runDiskProxy(t, dir, nil)
	if resp, _ := cacheGet(t, s, u, "Accept-Language: fr"); isHit(resp) {
		t.Error("after PURGE and a restart: a hit, want the disk copy gone")
	}
}

// A response larger than cache.max_object skips memory and streams to
// disk while it is relayed; the next request is a disk hit.
func TestDiskLargerThanMemory(t *testing.T) {
	body := patternBody(3<<20, 5)
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	s, _ := runDiskProxy(t, t.TempDir(), func(c *config.Config) { c.Cache.MaxObject = config.MiB })
	u := o.URL + "/large"
	if resp, got := cacheGet(t, s, u); isHit(resp) || got != string(body) {
		t.Fatalf("first fetch: %q, %d bytes", resp.Header.Get("X-Cache"), len(got))
	}
	waitStored(t, s, 1)
	resp, got := cacheGet(t, s, u)
	wantHit(t, resp, "disk-only object")
	if got != string(body) {
		t.Errorf("disk-only object: %d bytes, want %d intact", len(got), len(body))
	}
	wantOrigin(t, o, 1, "disk-only object")
}

// only-if-cached is answered from the disk tier when memory misses, and
// with 504 when neither holds the object (RFC 9111 §5.2.1.7).
func TestDiskOnlyIfCached(t *testing.T) {
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Cache-Control", "max-age=600")
		_, _ = w.Write([]byte("on disk"))
	})
	dir := t.TempDir()
	s, stop := runDiskProxy(t, dir, nil)
	cacheGet(t, s, o.URL+"/kept")
	waitStored(t, s, 1)
	stop()

	s, _ = runDiskProxy(t, dir, nil)
	resp, got := cacheGet(t, s, o.URL+"/kept", "Cache-Control: only-if-cached")
	if resp.StatusCode != 200 || got != "on disk" || !isHit(resp) {
		t.Errorf("only-if-cached, on disk: %d %q %q; want a 200 disk hit", resp.StatusCode, got, resp.Header.Get("X-Cache"))
	}
	resp, _ = cacheGet(t, s, o.URL+"/nowhere", "Cache-Control: only-if-cached")
	if resp.StatusCode != 504 {
		t.Errorf("only-if-cached, nowhere: %d, want 504", resp.StatusCode)
	}
	wantOrigin(t, o, 1, "only-if-cached never reaches the origin")
}

// A stale disk copy with a validator is revalidated, not fetched whole: a
// 304 from the origin lets the disk's body answer the client.
func TestDiskStaleCopyIsRevalidated(t *testing.T) {
	body := patternBody(300<<10, 5)
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Cache-Control", "max-age=2")
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write(body)
	})
	dir := t.TempDir()
	u := o.URL + "/stale"
	s, stop := runDiskProxy(t, dir, nil)
	cacheGet(t, s, u)
	waitStored(t, s, 1)
	stop()
	time.Sleep(3100 * time.Millisecond) // past max-age=2, with Date in whole seconds

	s, _ = runDiskProxy(t, dir, nil)
	resp, got := cacheGet(t, s, u)
	if resp.StatusCode != 200 || got != string(body) {
		t.Fatalf("stale disk copy: %d, %d bytes; want 200 and the stored body", resp.StatusCode, len(got))
	}
	wantOrigin(t, o, 2, "the fill and one revalidation")
	if inm := o.request(2).header.Get("If-None-Match"); inm != `"v1"` {
		t.Errorf("second origin request has If-None-Match %q, want the stored ETag", inm)
	}
	if cs := resp.Header.Get("Cache-Status"); !strings.Contains(cs, "fwd=stale") || !strings.Contains(cs, "fwd-status=304") {
		t.Errorf("Cache-Status %q: want a revalidated hit (fwd=stale; fwd-status=304)", cs)
	}
	resp, _ = cacheGet(t, s, u)
	wantHit(t, resp, "after the revalidation")
	wantOrigin(t, o, 2, "freshened by the 304")
}

// A directory whose reads turn slow is skipped for a while: its requests
// are fetched from the origin instead of waiting on the disk.
func TestDiskSlowReadsDegradeToMisses(t *testing.T) {
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Cache-Control", "max-age=600")
		_, _ = w.Write([]byte("slow disk"))
	})
	dir := t.TempDir()
	s, stop := runDiskProxy(t, dir, nil)
	cacheGet(t, s, o.URL+"/a")
	cacheGet(t, s, o.URL+"/b")
	waitStored(t, s, 2)
	stop()

	read, pause := slowDiskRead, slowDiskPause
	slowDiskRead, slowDiskPause = 0, time.Minute // every read counts as slow
	t.Cleanup(func() { slowDiskRead, slowDiskPause = read, pause })
	s, _ = runDiskProxy(t, dir, nil)
	wantHit(t, mustGet(t, s, o.URL+"/a"), "first disk read") // served, then the directory pauses
	resp, got := cacheGet(t, s, o.URL+"/b")
	wantMiss(t, resp, "while the directory is paused")
	if got != "slow disk" {
		t.Errorf("body %q", got)
	}
	st := s.disk.stats()[0]
	if st.SlowPauses != 1 || st.SlowSkips != 1 {
		t.Errorf("slow pauses %d, skips %d; want 1 and 1", st.SlowPauses, st.SlowSkips)
	}
	wantOrigin(t, o, 3, "two fills and the paused directory's miss")
}
