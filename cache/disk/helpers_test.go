package disk

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
)

func hashOf(k []byte) uint64 { return xxhash.Sum64(k) }

// testOptions is a small ring: 8 segments of 1 MiB, writes unpaced.
func testOptions(dir string) Options {
	return Options{Dir: dir, Size: 8 << 20, SegmentSize: 1 << 20, WriteRate: -1}
}

func mustOpen(t testing.TB, o Options) *Store {
	t.Helper()
	s, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// gen streams a deterministic body: a cyclic walk over a 1 MiB+7 byte block
// of pseudo-random bytes starting at seed, so bodies differ and chunks
// differ from each other, at memcpy speed.
type gen struct {
	off, left int64
	onRead    func(off int64) // called before each Read, if set
}

var genBlock = func() []byte {
	b := make([]byte, 1<<20+7)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}()

func newGen(seed, size int64) *gen { return &gen{off: seed * 7919 % int64(len(genBlock)), left: size} }

func (g *gen) Read(p []byte) (int, error) {
	if g.onRead != nil {
		g.onRead(g.off)
	}
	if g.left == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), g.left)]
	n := 0
	for n < len(p) {
		i := int(g.off % int64(len(genBlock)))
		c := copy(p[n:], genBlock[i:])
		n += c
		g.off += int64(c)
	}
	g.left -= int64(n)
	return n, nil
}

func body(seed, size int64) []byte {
	b, _ := io.ReadAll(newGen(seed, size))
	return b
}

func keyOf(i int) []byte {
	return []byte("http://example.com/object/" + string(rune('a'+i%26)) + "/" + itoa(i))
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}

func metaOf(i int) []byte { return []byte("HTTP/1.1 200 OK\r\nX-Object: " + itoa(i) + "\r\n\r\n") }

func put(t testing.TB, s *Store, i int, size int64) {
	t.Helper()
	if err := s.Put(keyOf(i), metaOf(i), newGen(int64(i), size), size, time.Time{}); err != nil {
		t.Fatalf("Put %d (%d bytes): %v", i, size, err)
	}
}

// readAll reads an object's body with ReadAt calls of step bytes.
func readAll(o *Object, step int) ([]byte, error) {
	out := make([]byte, 0, o.Size)
	buf := make([]byte, step)
	for off := int64(0); off < o.Size; {
		n, err := o.ReadAt(buf, off)
		out = append(out, buf[:n]...)
		off += int64(n)
		if err != nil && !(errors.Is(err, io.EOF) && off == o.Size) {
			return out, err
		}
	}
	return out, nil
}

// check asserts that object i is served with its meta and body.
func check(t testing.TB, s *Store, i int, size int64) {
	t.Helper()
	o, ok := s.Get(keyOf(i))
	if !ok {
		t.Fatalf("Get %d: miss, want hit", i)
	}
	if o.Size != size {
		t.Fatalf("object %d: size %d, want %d", i, o.Size, size)
	}
	m, err := o.Meta()
	if err != nil || !bytes.Equal(m, metaOf(i)) {
		t.Fatalf("object %d: meta %q, %v; want %q", i, m, err, metaOf(i))
	}
	got, err := readAll(o, 100_003)
	if err != nil {
		t.Fatalf("object %d: ReadAt: %v", i, err)
	}
	if sha256.Sum256(got) != sha256.Sum256(body(int64(i), size)) {
		t.Fatalf("object %d: body differs", i)
	}
}

func miss(t testing.TB, s *Store, i int) {
	t.Helper()
	if _, ok := s.Get(keyOf(i)); ok {
		t.Fatalf("Get %d: hit, want miss", i)
	}
}

func waitRebuild(t testing.TB, s *Store) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for s.Stats().Rebuilding {
		if time.Now().After(deadline) {
			t.Fatalf("rebuild did not finish: %+v", s.Stats())
		}
		time.Sleep(time.Millisecond)
	}
}

// copyDir copies the files of an open store, as a kill -9 would leave them:
// everything written is in the page cache, nothing else happened.
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(src, "seg-*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(name)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// location returns the segment file and offset of object i's head record.
func location(t testing.TB, s *Store, i int) (path string, off int64) {
	t.Helper()
	o, ok := s.Get(keyOf(i))
	if !ok {
		t.Fatalf("Get %d: miss", i)
	}
	f, off := s.geo.file(o.addr)
	return s.segPath(f), off
}
