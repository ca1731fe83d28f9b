package disk

import (
	"runtime"
	"testing"
)

func TestIndexBytesPerObject(t *testing.T) {
	s := mustOpen(t, Options{Dir: t.TempDir(), Size: 1 << 30, WriteRate: -1})
	const n = 200_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tail := s.tail.Load()
	for i := range n {
		h := uint64(i)*0x9e3779b97f4a7c15 + 1
		if !s.insert(h, tail+int64(i)*4096%s.ringBytes, int64(i), 0, false) {
			t.Fatal("insert refused")
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("index: %.1f bytes per object (%d objects)", per, n)
	if per >= 64 {
		t.Fatalf("index uses %.1f bytes per object, want < 64", per)
	}
	runtime.KeepAlive(s)
}

func TestEntryPacking(t *testing.T) {
	s := mustOpen(t, testOptions(t.TempDir()))
	tail := s.tail.Load()
	for _, tt := range []struct {
		addr, size int64
		exp        uint32
	}{{tail, 0, 0}, {tail + s.ringBytes - 8, maxObjectLimit, 1<<32 - 1}, {tail + 4096, 1<<32 + 5, 17}} {
		e := makeEntry(tt.addr, tt.size, tt.exp)
		for range 300 {
			e.hit()
		}
		a, live := s.resolve(e)
		if !live || a != tt.addr || e.size() != tt.size || e.c != tt.exp || e.hits() != maxHits {
			t.Fatalf("entry %+v: got addr %d live %v size %d hits %d", tt, a, live, e.size(), e.hits())
		}
	}
	if _, live := s.resolve(makeEntry(tail-8, 1, 0)); live {
		t.Fatal("an address before tail resolved live")
	}
}
