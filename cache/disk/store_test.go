package disk

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	s := mustOpen(t, testOptions(t.TempDir()))
	sizes := []struct {
		name string
		size int64
	}{
		{"empty", 0}, {"1 KiB", 1 << 10}, {"one chunk", ChunkSize}, {"chunk plus one", ChunkSize + 1}, {"1 MiB", 1 << 20},
	}
	for i, tt := range sizes {
		t.Run(tt.name, func(t *testing.T) {
			put(t, s, i, tt.size)
			check(t, s, i, tt.size)
			o, _ := s.Get(keyOf(i))
			for _, step := range []int{ChunkSize, 2 * ChunkSize, 4096, int(tt.size) + 1} {
				got, err := readAll(o, max(step, 1))
				if err != nil || !bytes.Equal(got, body(int64(i), tt.size)) {
					t.Fatalf("reads of %d bytes: %v, body equal %v", step, err, bytes.Equal(got, body(int64(i), tt.size)))
				}
			}
			if o.Hits != 2 {
				t.Fatalf("got %d hits, want 2", o.Hits)
			}
		})
	}
	if st := s.Stats(); st.Objects != int64(len(sizes)) || st.Errors != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestReadAtEdges(t *testing.T) {
	s := mustOpen(t, testOptions(t.TempDir()))
	const size = 3*ChunkSize + 100
	put(t, s, 1, size)
	o, _ := s.Get(keyOf(1))
	want := body(1, size)
	for _, r := range []struct{ off, n int64 }{{0, 10}, {ChunkSize - 5, 10}, {2*ChunkSize + 7, ChunkSize}, {size - 3, 3}} {
		p := make([]byte, r.n)
		n, err := o.ReadAt(p, r.off)
		if err != nil || int64(n) != r.n || !bytes.Equal(p, want[r.off:r.off+r.n]) {
			t.Fatalf("ReadAt(%d, %d): %d, %v", r.n, r.off, n, err)
		}
	}
	p := make([]byte, 10)
	if n, err := o.ReadAt(p, size-4); n != 4 || err != io.EOF {
		t.Fatalf("read past the end: got %d, %v; want 4, EOF", n, err)
	}
	if n, err := o.ReadAt(p, size); n != 0 || err != io.EOF {
		t.Fatalf("read at the end: got %d, %v; want 0, EOF", n, err)
	}
}

func TestReplaceAndDelete(t *testing.T) {
	s := mustOpen(t, testOptions(t.TempDir()))
	put(t, s, 1, 1000)
	if err := s.Put(keyOf(1), metaOf(1), newGen(1, 5000), 5000, time.Time{}); err != nil {
		t.Fatal(err)
	}
	check(t, s, 1, 5000)
	if st := s.Stats(); st.Objects != 1 || st.Bytes != 5000 {
		t.Fatalf("after replace: %d objects, %d bytes; want 1, 5000", st.Objects, st.Bytes)
	}
	if !s.Delete(keyOf(1)) {
		t.Fatal("Delete: false, want true")
	}
	miss(t, s, 1)
	if s.Delete(keyOf(1)) {
		t.Fatal("second Delete: true, want false")
	}
	if st := s.Stats(); st.Objects != 0 || st.Bytes != 0 {
		t.Fatalf("after delete: %+v", st)
	}
}

func TestExpiry(t *testing.T) {
	s := mustOpen(t, testOptions(t.TempDir()))
	if err := s.Put(keyOf(1), nil, newGen(1, 10), 10, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	miss(t, s, 1)
	exp := time.Now().Add(time.Second)
	if err := s.Put(keyOf(2), nil, newGen(2, 10), 10, exp); err != nil {
		t.Fatal(err)
	}
	o, ok := s.Get(keyOf(2))
	if !ok || o.Expires.Unix() != exp.Unix() {
		t.Fatalf("Get: %v, expires %v; want hit, %v", ok, o.Expires, exp)
	}
	time.Sleep(time.Until(time.Unix(exp.Unix(), 0)) + 10*time.Millisecond)
	miss(t, s, 2)
}

func TestIncompleteBodyIndexesNothing(t *testing.T) {
	s := mustOpen(t, testOptions(t.TempDir()))
	put(t, s, 1, 600_000)
	for _, tt := range []struct {
		name string
		r    io.Reader
	}{
		{"short", newGen(9, 300_000)},
		{"reader error", io.MultiReader(newGen(9, 300_000), errReader{})},
		{"short head", newGen(9, 100)},
	} {
		err := s.Put(keyOf(1), metaOf(1), tt.r, 600_000, time.Time{})
		if !errors.Is(err, ErrIncomplete) {
			t.Fatalf("%s: got %v, want ErrIncomplete", tt.name, err)
		}
		check(t, s, 1, 600_000) // the old version stays
		if err := s.Put(keyOf(2), metaOf(2), tt.r, 600_000, time.Time{}); !errors.Is(err, ErrIncomplete) {
			t.Fatalf("%s: got %v, want ErrIncomplete", tt.name, err)
		}
		miss(t, s, 2)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestTooLarge(t *testing.T) {
	s := mustOpen(t, testOptions(t.TempDir()))
	for _, tt := range []struct {
		name      string
		key, meta []byte
		size      int64
	}{
		{"empty key", nil, nil, 1},
		{"long key", make([]byte, MaxKey+1), nil, 1},
		{"long meta", []byte("k"), make([]byte, MaxMeta+1), 1},
		{"body", []byte("k"), nil, s.opt.MaxObject + 1},
	} {
		if err := s.Put(tt.key, tt.meta, newGen(1, tt.size), tt.size, time.Time{}); err != ErrTooLarge {
			t.Fatalf("%s: got %v, want ErrTooLarge", tt.name, err)
		}
	}
}

func TestHashCollisionIsAMiss(t *testing.T) {
	s := mustOpen(t, testOptions(t.TempDir()))
	put(t, s, 1, 100)
	o, _ := s.Get(keyOf(1))
	// Point a second key's hash at the first key's record, as a 64-bit
	// collision would.
	other := []byte("http://example.com/collides")
	s.insert(hashOf(other), o.addr, o.Size, 0, false)
	c, ok := s.Get(other)
	if !ok {
		t.Fatal("Get: miss, want a hit on the hash")
	}
	if _, err := c.Meta(); err != ErrNotFound {
		t.Fatalf("Meta: got %v, want ErrNotFound", err)
	}
	if _, err := c.ReadAt(make([]byte, 10), 0); err != ErrNotFound {
		t.Fatalf("ReadAt: got %v, want ErrNotFound", err)
	}
}

func TestOptions(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		o    Options
		ok   bool
	}{
		{"defaults", Options{Dir: dir, Size: 1 << 30}, true},
		{"small size lowers segments", Options{Dir: dir, Size: 16 << 20}, true},
		{"no dir", Options{Size: 1 << 30}, false},
		{"no size", Options{Dir: dir}, false},
		{"too few segments", Options{Dir: dir, Size: 3 << 20, SegmentSize: 1 << 20}, false},
		{"unaligned segment", Options{Dir: dir, Size: 1 << 30, SegmentSize: 1<<20 + 1}, false},
		{"small segment", Options{Dir: dir, Size: 1 << 30, SegmentSize: 512 << 10}, false},
		{"negative workers", Options{Dir: dir, Size: 1 << 30, IOWorkers: -1}, false},
	} {
		o, err := tt.o.normalize()
		if (err == nil) != tt.ok {
			t.Fatalf("%s: got %v, want ok %v", tt.name, err, tt.ok)
		}
		if err == nil && (o.Size/o.SegmentSize < MinSegments || o.MaxObject <= 0 || o.IOWorkers != DefaultIOWorkers) {
			t.Fatalf("%s: got %+v", tt.name, o)
		}
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	o := testOptions(t.TempDir())
	mustOpen(t, o)
	if _, err := Open(o); err != ErrLocked {
		t.Fatalf("second Open: got %v, want ErrLocked", err)
	}
}
