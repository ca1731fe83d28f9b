package disk

import (
	"crypto/sha256"
	"io"
	"runtime"
	"testing"
	"time"
)

// heapWatch samples HeapInuse and keeps the peak growth over a baseline.
type heapWatch struct {
	base, peak uint64
}

func newHeapWatch() *heapWatch {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return &heapWatch{base: m.HeapInuse}
}

func (w *heapWatch) sample() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if m.HeapInuse > w.base {
		w.peak = max(w.peak, m.HeapInuse-w.base)
	}
}

func TestLargeObjectStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100 MiB")
	}
	const size = 100 << 20
	s := mustOpen(t, Options{Dir: t.TempDir(), Size: 512 << 20, WriteRate: -1})
	key := []byte("http://example.com/big.iso")

	want := sha256.New()
	g := newGen(42, size)
	w := newHeapWatch()
	var last int64
	g.onRead = func(off int64) {
		if off-last >= 8<<20 {
			w.sample()
			last = off
		}
	}
	start := time.Now()
	if err := s.Put(key, []byte("meta"), io.TeeReader(g, want), size, time.Time{}); err != nil {
		t.Fatal(err)
	}
	w.sample()
	t.Logf("put 100 MiB in %v, heap growth %d KiB", time.Since(start), w.peak>>10)
	if w.peak >= 16<<20 {
		t.Fatalf("heap grew %d MiB during Put, want < 16", w.peak>>20)
	}

	w = newHeapWatch()
	start = time.Now()
	o, ok := s.Get(key)
	if !ok || o.Size != size {
		t.Fatalf("Get: %v, size %d", ok, o.Size)
	}
	got := sha256.New()
	buf := make([]byte, 4*ChunkSize)
	for off := int64(0); off < size; {
		n, err := o.ReadAt(buf, off)
		if err != nil && err != io.EOF {
			t.Fatalf("ReadAt %d: %v", off, err)
		}
		got.Write(buf[:n])
		off += int64(n)
		if off%(8<<20) == 0 {
			w.sample()
		}
	}
	w.sample()
	t.Logf("read 100 MiB in %v, heap growth %d KiB", time.Since(start), w.peak>>10)
	if w.peak >= 16<<20 {
		t.Fatalf("heap grew %d MiB during reads, want < 16", w.peak>>20)
	}
	if string(got.Sum(nil)) != string(want.Sum(nil)) {
		t.Fatal("SHA-256 of the body read back differs")
	}
}
