package accesslog

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a goroutine-safe bytes.Buffer.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func record(i int) *Record {
	r := miss
	r.URL = "http://example.com/" + strconv.Itoa(i)
	return &r
}

func TestWriterFlushesOnTimer(t *testing.T) {
	var out syncBuffer
	w := newWriter(&out, nil, "", FormatSquid, 20*time.Millisecond, FlushSize, MaxBuffered)
	defer w.Close()
	w.Log(&miss)
	if got := out.String(); got != "" {
		t.Fatalf("written before the flush: got %q, want nothing yet", got)
	}
	want := string(AppendSquid(nil, &miss))
	waitFor(t, "timer flush", func() bool { return out.String() == want })
}

func TestWriterFlushesOnSize(t *testing.T) {
	var out syncBuffer
	w := newWriter(&out, nil, "", FormatCommon, time.Hour, 512, MaxBuffered)
	defer w.Close()
	line := AppendCommon(nil, record(1))
	n := 512/len(line) + 1
	for range n {
		w.Log(record(1))
	}
	waitFor(t, "size flush", func() bool { return strings.Count(out.String(), "\n") == n })
}

func TestWriterCloseFlushes(t *testing.T) {
	var out syncBuffer
	w := newWriter(&out, nil, "", FormatCombined, time.Hour, FlushSize, MaxBuffered)
	w.Log(&miss)
	w.Log(&denied)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := string(AppendCombined(AppendCombined(nil, &miss), &denied))
	if got := out.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	w.Log(&miss)
	if got := w.Dropped(); got != 1 {
		t.Errorf("Log after Close: got %d dropped, want 1", got)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	if err := w.Reopen(); !errors.Is(err, ErrClosed) {
		t.Errorf("Reopen after Close: got %v, want %v", err, ErrClosed)
	}
}

// TestWriterReopenAfterRename simulates logrotate: rename the file, signal,
// and check that later records land in a new file at the old path.
func TestWriterReopenAfterRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	w, err := Open(path, FormatSquid)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Log(record(1))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	w.Log(record(2)) // buffered before the reopen: belongs to the old file
	if err := w.Reopen(); err != nil {
		t.Fatal(err)
	}
	w.Log(record(3))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got, want := read(path+".1"), string(AppendSquid(AppendSquid(nil, record(1)), record(2))); got != want {
		t.Errorf("rotated file: got %q, want %q", got, want)
	}
	if got, want := read(path), string(AppendSquid(nil, record(3))); got != want {
		t.Errorf("new file: got %q, want %q", got, want)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o640 {
		t.Errorf("new file mode: got %v %v, want 0640", info.Mode().Perm(), err)
	}
}

func TestWriterReopenFailureKeepsLogging(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "logs")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(sub, "access.log")
	w, err := Open(path, FormatSquid)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := os.Rename(sub, sub+".old"); err != nil {
		t.Fatal(err)
	}
	if err := w.Reopen(); err == nil {
		t.Fatal("Reopen into a missing directory: got nil, want an error")
	}
	if w.Err() == nil {
		t.Error("Err after failed Reopen: got nil, want the error")
	}
	w.Log(record(1))
	w.Close()
	b, _ := os.ReadFile(filepath.Join(sub+".old", "access.log"))
	if got, want := string(b), string(AppendSquid(nil, record(1))); got != want {
		t.Errorf("old file: got %q, want %q", got, want)
	}
}

// blockingWriter blocks every Write until release is closed.
type blockingWriter struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	out     syncBuffer
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	b.once.Do(func() { close(b.entered) })
	<-b.release
	return b.out.Write(p)
}

// TestWriterDropsWhenBlocked checks that a stuck disk costs records, counted,
// and never blocks Log or grows the buffer past its cap.
func TestWriterDropsWhenBlocked(t *testing.T) {
	bw := &blockingWriter{entered: make(chan struct{}), release: make(chan struct{})}
	const maxBuf = 4096
	w := newWriter(bw, nil, "", FormatSquid, time.Hour, 256, maxBuf)
	line := len(AppendSquid(nil, record(100)))

	// Fill past flushSize so the flusher takes a batch and blocks in Write.
	for i := 0; i < 256/line+1; i++ {
		w.Log(record(100 + i))
	}
	<-bw.entered
	first := 256/line + 1

	start := time.Now()
	const n = 1000
	for i := range n {
		w.Log(record(1000 + i))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Log blocked behind a stuck writer: %d calls took %v", n, d)
	}
	w.mu.Lock()
	buffered := len(w.buf)
	w.mu.Unlock()
	if buffered > maxBuf {
		t.Errorf("buffer grew to %d bytes, want at most %d", buffered, maxBuf)
	}
	dropped := w.Dropped()
	if minDrop := uint64(n - maxBuf/line - 1); dropped < minDrop {
		t.Errorf("got %d dropped, want at least %d", dropped, minDrop)
	}
	close(bw.release)
	w.Close()
	if got, want := uint64(strings.Count(bw.out.String(), "\n")), uint64(first+n)-dropped; got != want {
		t.Errorf("got %d lines written, want %d (%d logged, %d dropped)", got, want, first+n, dropped)
	}
}

type failingWriter struct{}

func (failingWriter) Write(p []byte) (int, error) { return 0, errors.New("disk on fire") }

func TestWriterCountsFailedWrites(t *testing.T) {
	w := newWriter(failingWriter{}, nil, "", FormatSquid, time.Hour, FlushSize, MaxBuffered)
	for i := range 3 {
		w.Log(record(i))
	}
	w.Close()
	if got := w.Dropped(); got != 3 {
		t.Errorf("got %d dropped, want 3", got)
	}
	if err := w.Err(); err == nil || err.Error() != "disk on fire" {
		t.Errorf("Err: got %v, want %q", err, "disk on fire")
	}
}

func TestWriterConcurrent(t *testing.T) {
	var out syncBuffer
	w := newWriter(&out, nil, "", FormatSquid, time.Millisecond, 1024, MaxBuffered)
	const goroutines, each = 8, 500
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				w.Log(record(g*each + i))
				if i%100 == 0 {
					w.Reopen()
				}
			}
		})
	}
	wg.Wait()
	w.Close()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != goroutines*each || w.Dropped() != 0 {
		t.Fatalf("got %d lines and %d dropped, want %d and 0", len(lines), w.Dropped(), goroutines*each)
	}
	seen := make(map[string]bool, len(lines))
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 10 || seen[f[6]] {
			t.Fatalf("torn or repeated line %q", l)
		}
		seen[f[6]] = true
	}
}

func TestLogAllocs(t *testing.T) {
	w := newWriter(&syncBuffer{}, nil, "", FormatCombined, time.Hour, MaxBuffered, MaxBuffered)
	defer w.Close()
	if n := testing.AllocsPerRun(1000, func() { w.Log(&miss) }); n != 0 {
		t.Errorf("Log: got %v allocations, want 0", n)
	}
}

func BenchmarkLog(b *testing.B) {
	w := New(discard{}, FormatSquid)
	defer w.Close()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w.Log(&miss)
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
