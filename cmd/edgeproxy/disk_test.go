package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// diskOrigin serves /obj/<size>/<seed>: a deterministic body of that size,
// fresh for an hour, and counts the requests it receives.
type diskOrigin struct {
	addr string
	hits atomic.Int64
}

func startDiskOrigin(t *testing.T) *diskOrigin {
	o := &diskOrigin{}
	o.addr = startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		var size, seed int
		if _, err := fmt.Sscanf(r.URL.Path, "/obj/%d/%d", &size, &seed); err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Length", strconv.Itoa(size))
		_, _ = io.Copy(w, io.LimitReader(newSeeded(seed), int64(size)))
	}))
	return o
}

// seeded is a deterministic pseudo-random stream (xorshift).
type seeded struct{ x uint64 }

func newSeeded(seed int) *seeded { return &seeded{x: uint64(seed)*2654435761 + 1} }

func (s *seeded) Read(p []byte) (int, error) {
	for i := range p {
		s.x ^= s.x << 13
		s.x ^= s.x >> 7
		s.x ^= s.x << 17
		p[i] = byte(s.x)
	}
	return len(p), nil
}

func (o *diskOrigin) url(size, seed int) string {
	return fmt.Sprintf("http://%s/obj/%d/%d", o.addr, size, seed)
}

// sumOf is the SHA-256 of the body the origin serves for size and seed.
func sumOf(size, seed int) [32]byte {
	h := sha256.New()
	_, _ = io.Copy(h, io.LimitReader(newSeeded(seed), int64(size)))
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

// proxyGet fetches u through the proxy and returns the X-Cache header and
// the body's SHA-256.
func proxyGet(t *testing.T, p *proxyProc, u string) (string, [32]byte, int64) {
	t.Helper()
	pu, _ := url.Parse("http://" + p.addr)
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu), DisableCompression: true}, Timeout: 60 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", u, err)
	}
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return resp.Header.Get("X-Cache"), s, n
}

// dirStat is the part of /stats' disk entries these tests read.
type dirStat struct {
	Objects, Bytes, Capacity, Stored, Corrupt int64
	Rebuilding                                bool
}

func diskStats(t *testing.T, p *proxyProc) []dirStat {
	t.Helper()
	resp, err := http.Get("http://" + p.admin + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Disk []dirStat `json:"disk"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v.Disk
}

// waitDisk polls /stats until cond holds for the first directory.
func waitDisk(t *testing.T, p *proxyProc, what string, cond func(dirStat) bool) dirStat {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ds := diskStats(t, p)
		if len(ds) > 0 && cond(ds[0]) {
			return ds[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: disk stats %+v", what, ds)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func diskYAML(dir string, size string) string {
	return fmt.Sprintf("cache:\n  dirs:\n    - path: %s\n      size: %s\n", dir, size)
}

// stopProc stops the proxy with sig and waits for it to exit.
func stopProc(t *testing.T, p *proxyProc, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		p.done <- err
	case <-time.After(15 * time.Second):
		t.Fatalf("proxy did not exit after %v", sig)
	}
}

// diskSet is the objects the restart tests store: small ones (one record)
// and ones spanning several chunk records.
var diskSet = []struct{ size, seed int }{{1, 1}, {10 << 10, 2}, {300 << 10, 3}, {2 << 20, 4}, {5<<20 + 7, 5}}

// storeSet fetches diskSet through p (misses) and waits until all of it is
// on disk.
func storeSet(t *testing.T, p *proxyProc, o *diskOrigin) {
	t.Helper()
	for _, obj := range diskSet {
		xc, sum, _ := proxyGet(t, p, o.url(obj.size, obj.seed))
		if strings.HasPrefix(xc, "HIT") || sum != sumOf(obj.size, obj.seed) {
			t.Fatalf("first fetch of %d bytes: X-Cache %q, checksum ok %v", obj.size, xc, sum == sumOf(obj.size, obj.seed))
		}
	}
	waitDisk(t, p, "write-behind", func(d dirStat) bool { return d.Stored >= int64(len(diskSet)) })
}

// checkSet fetches diskSet through p and wants every object from the cache,
// intact, with the origin not asked again.
func checkSet(t *testing.T, p *proxyProc, o *diskOrigin) {
	t.Helper()
	before := o.hits.Load()
	for _, obj := range diskSet {
		xc, sum, n := proxyGet(t, p, o.url(obj.size, obj.seed))
		if !strings.HasPrefix(xc, "HIT") {
			t.Errorf("%d-byte object after restart: X-Cache %q, want a HIT", obj.size, xc)
		}
		if sum != sumOf(obj.size, obj.seed) {
			t.Errorf("%d-byte object after restart: %d bytes, checksum differs", obj.size, n)
		}
	}
	if got := o.hits.Load() - before; got != 0 {
		t.Errorf("origin asked %d times after restart, want 0", got)
	}
}

// Issue 7: objects survive a clean restart (SIGTERM writes the index) and
// are served intact from disk without the origin.
func TestDiskCleanRestart(t *testing.T) {
	o := startDiskOrigin(t)
	dir := filepath.Join(t.TempDir(), "d1")
	p := startProc(t, diskYAML(dir, "64MiB"))
	storeSet(t, p, o)
	stopProc(t, p, syscall.SIGTERM)
	if _, err := os.Stat(filepath.Join(dir, "index")); err != nil {
		t.Errorf("no index file after a clean stop: %v", err)
	}

	p = startProc(t, diskYAML(dir, "64MiB"))
	if d := diskStats(t, p)[0]; d.Rebuilding || d.Objects != int64(len(diskSet)) {
		t.Errorf("after a clean restart: %+v, want %d objects indexed at once", d, len(diskSet))
	}
	checkSet(t, p, o)
}

// Issue 7: objects survive kill -9: the next start rebuilds the index from
// the segments, reports its progress, and serves every object intact.
func TestDiskKill9Restart(t *testing.T) {
	o := startDiskOrigin(t)
	dir := filepath.Join(t.TempDir(), "d1")
	p := startProc(t, diskYAML(dir, "64MiB"))
	storeSet(t, p, o)
	stopProc(t, p, syscall.SIGKILL)

	p = startProc(t, diskYAML(dir, "64MiB"))
	waitDisk(t, p, "rebuild", func(d dirStat) bool { return !d.Rebuilding && d.Objects == int64(len(diskSet)) })
	checkSet(t, p, o)
	time.Sleep(1200 * time.Millisecond) // the log reports the end within a second
	stopProc(t, p, syscall.SIGTERM)
	for _, want := range []string{"disk index rebuild started", "disk index rebuild finished"} {
		if !strings.Contains(p.logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, p.logs.String())
		}
	}
}

// Issue 7: a record corrupted on disk is detected when read, dropped, and
// the object is fetched again from the origin, intact; the copy stored
// then serves the next request.
func TestDiskCorruptRecord(t *testing.T) {
	o := startDiskOrigin(t)
	dir := filepath.Join(t.TempDir(), "d1")
	const size, seed = 100 << 10, 42
	p := startProc(t, diskYAML(dir, "64MiB"))
	proxyGet(t, p, o.url(size, seed))
	waitDisk(t, p, "write-behind", func(d dirStat) bool { return d.Stored >= 1 })
	stopProc(t, p, syscall.SIGTERM)

	// Find the body in the segment files and flip one byte in its middle.
	body, _ := io.ReadAll(io.LimitReader(newSeeded(seed), size))
	segs, _ := filepath.Glob(filepath.Join(dir, "*"))
	flipped := false
	for _, seg := range segs {
		b, err := os.ReadFile(seg)
		if err != nil {
			continue
		}
		if i := bytes.Index(b, body[:4096]); i >= 0 {
			f, err := os.OpenFile(seg, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			at := int64(i + size/2)
			if _, err := f.WriteAt([]byte{b[at] ^ 0xff}, at); err != nil {
				t.Fatal(err)
			}
			f.Close()
			flipped = true
			break
		}
	}
	if !flipped {
		t.Fatalf("body not found in %v", segs)
	}

	p = startProc(t, diskYAML(dir, "64MiB"))
	before := o.hits.Load()
	xc, sum, _ := proxyGet(t, p, o.url(size, seed))
	if sum != sumOf(size, seed) {
		t.Fatal("corrupt record: the client got a wrong body")
	}
	if strings.HasPrefix(xc, "HIT") || o.hits.Load() != before+1 {
		t.Errorf("corrupt record: X-Cache %q, origin asked %d times; want a refetch", xc, o.hits.Load()-before)
	}
	if d := waitDisk(t, p, "refetch stored", func(d dirStat) bool { return d.Stored >= 1 }); d.Corrupt != 1 {
		t.Errorf("corrupt records counted: %d, want 1", d.Corrupt)
	}
	if xc, sum, _ := proxyGet(t, p, o.url(size, seed)); !strings.HasPrefix(xc, "HIT") || sum != sumOf(size, seed) {
		t.Errorf("after the refetch: X-Cache %q, checksum ok %v; want an intact hit", xc, sum == sumOf(size, seed))
	}
}

// Issue 7: a store filled far past its size keeps working and stays within
// its limit: the oldest segments are reused, no client sees an error.
func TestDiskFillPastSize(t *testing.T) {
	o := startDiskOrigin(t)
	dir := filepath.Join(t.TempDir(), "d1")
	const limit = 8 << 20
	p := startProc(t, diskYAML(dir, "8MiB"))
	const n, size = 300, 100 << 10 // 30 MB through an 8 MiB store
	for i := range n {
		xc, sum, _ := proxyGet(t, p, o.url(size, 1000+i))
		if sum != sumOf(size, 1000+i) {
			t.Fatalf("object %d: wrong body (X-Cache %q)", i, xc)
		}
	}
	d := waitDisk(t, p, "fill", func(d dirStat) bool { return d.Stored >= n/2 })
	if d.Bytes > d.Capacity || d.Capacity > limit || d.Objects == 0 {
		t.Errorf("after %d objects: %+v; want bytes within capacity within %d", n, d, limit)
	}
	var onDisk int64
	_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			onDisk += fi.Size()
		}
		return nil
	})
	if onDisk > limit+64<<10 {
		t.Errorf("directory holds %d bytes, want at most %d", onDisk, limit)
	}
	stopProc(t, p, syscall.SIGTERM)
	// Memory is gone after the restart: the newest objects come from disk.
	p = startProc(t, diskYAML(dir, "8MiB"))
	before := o.hits.Load()
	if xc, sum, _ := proxyGet(t, p, o.url(size, 1000+n-1)); !strings.HasPrefix(xc, "HIT") || sum != sumOf(size, 1000+n-1) {
		t.Errorf("newest object after the restart: X-Cache %q; want an intact disk hit", xc)
	}
	if xc, _, _ := proxyGet(t, p, o.url(size, 1000)); strings.HasPrefix(xc, "HIT") {
		t.Errorf("oldest object: X-Cache %q; want it evicted with its segment", xc)
	}
	if got := o.hits.Load() - before; got != 1 {
		t.Errorf("origin asked %d times, want 1 (the evicted object)", got)
	}
}

// Issue 7: a 100 MiB object streams from disk to a client that reads
// slowly, with the proxy's peak RSS growing by far less than the object.
func TestDiskLargeObjectSlowClient(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 200 MiB")
	}
	o := startDiskOrigin(t)
	dir := filepath.Join(t.TempDir(), "d1")
	const size, seed = 100 << 20, 7
	// 100 MiB is over max_object: memory never holds it, the disk does.
	p := startProc(t, diskYAML(dir, "512MiB"))
	if xc, sum, _ := proxyGet(t, p, o.url(size, seed)); strings.HasPrefix(xc, "HIT") || sum != sumOf(size, seed) {
		t.Fatalf("first fetch: X-Cache %q, checksum ok %v", xc, sum == sumOf(size, seed))
	}
	waitDisk(t, p, "spool", func(d dirStat) bool { return d.Stored >= 1 })
	warm(t, p.addr, o.addr)
	base := p.status(t, "VmHWM")

	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.(*net.TCPConn).SetReadBuffer(64 << 10)
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", o.url(size, seed))
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 64<<10), nil)
	if err != nil {
		t.Fatal(err)
	}
	if xc := resp.Header.Get("X-Cache"); !strings.HasPrefix(xc, "HIT") {
		t.Errorf("X-Cache %q, want a disk HIT", xc)
	}
	h := sha256.New()
	buf := make([]byte, 64<<10)
	var got int64
	start := time.Now()
	for got < size {
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		n, err := resp.Body.Read(buf)
		h.Write(buf[:n])
		got += int64(n)
		if err != nil {
			break
		}
		time.Sleep(time.Millisecond) // at most about 60 MB/s
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	if got != size || sum != sumOf(size, seed) {
		t.Fatalf("received %d bytes (checksum ok %v), want %d intact", got, sum == sumOf(size, seed), size)
	}
	growth := p.status(t, "VmHWM") - base
	t.Logf("proxy peak RSS grew by %d KiB while sending 100 MiB from disk to a slow reader in %v", growth, time.Since(start).Round(time.Millisecond))
	if growth > 32<<10 {
		t.Errorf("peak RSS grew by %d KiB, want < 32 MiB", growth)
	}
	if got := o.hits.Load(); got != 1+3 { // the first fetch and warm's three
		t.Errorf("origin asked %d times, want 4", got)
	}
}
