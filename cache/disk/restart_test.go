package disk

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// objects written before each restart: index → size. Multi-chunk objects
// cross segments (1 MiB) here.
var restartSet = map[int]int64{1: 0, 2: 1 << 10, 3: 700 << 10, 4: ChunkSize, 5: 2 << 20, 6: 100, 7: 300 << 10}

func putSet(t *testing.T, s *Store) {
	for i := 1; i <= len(restartSet); i++ {
		put(t, s, i, restartSet[i])
	}
}

func checkSet(t *testing.T, s *Store, skip int) {
	t.Helper()
	for i, size := range restartSet {
		if i != skip {
			check(t, s, i, size)
		}
	}
}

func TestCleanRestart(t *testing.T) {
	o := testOptions(t.TempDir())
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	putSet(t, s)
	s.Get(keyOf(2))
	before := s.Stats()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(filepath.Join(o.Dir, indexName)); err != nil {
		t.Fatalf("no index after Close: %v", err)
	}
	s = mustOpen(t, o)
	st := s.Stats()
	if st.Rebuilding || st.RebuildTotal != 0 {
		t.Fatalf("Open after Close rebuilt: %+v", st)
	}
	if st.Objects != before.Objects || st.Bytes != before.Bytes {
		t.Fatalf("after restart %d objects, %d bytes; want %d, %d", st.Objects, st.Bytes, before.Objects, before.Bytes)
	}
	if _, err := os.Stat(filepath.Join(o.Dir, indexName)); !os.IsNotExist(err) {
		t.Fatalf("index file still there after Open: %v", err)
	}
	if obj, _ := s.Get(keyOf(2)); obj.Hits != 2 {
		t.Fatalf("hits after restart %d, want 2", obj.Hits)
	}
	checkSet(t, s, 0)
	put(t, s, 20, 5000) // the log continues where it stopped
	check(t, s, 20, 5000)
	checkSet(t, s, 0)
}

func TestCrashRestart(t *testing.T) {
	for _, tt := range []struct {
		name string
		tear func(t *testing.T, s *Store, dir string) // damages the copy; returns nothing
		torn int                                      // object that must be gone
	}{
		{"no damage", func(*testing.T, *Store, string) {}, 0},
		{"last record truncated", func(t *testing.T, s *Store, dir string) {
			path, off := location(t, s, 8)
			if err := os.Truncate(filepath.Join(dir, filepath.Base(path)), off+150<<10); err != nil {
				t.Fatal(err)
			}
		}, 8},
		{"last chunk torn", func(t *testing.T, s *Store, dir string) {
			path, off := location(t, s, 8)
			flip(t, filepath.Join(dir, filepath.Base(path)), off+recHeaderSize+ChunkSize+500)
		}, 8},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions(t.TempDir())
			s := mustOpen(t, o)
			putSet(t, s)
			// Tombstones, replacements and incomplete Puts must survive the
			// crash too.
			put(t, s, 30, 100)
			s.Delete(keyOf(30))
			// A Put that dies after its head record leaves a hole of
			// reserved space before the last object.
			if err := s.Put(keyOf(7), metaOf(7), newGen(9, 400<<10), 600<<10, time.Time{}); err == nil {
				t.Fatal("short Put succeeded")
			}
			put(t, s, 8, 400<<10) // the last record, partly inside one chunk
			crashed := t.TempDir()
			copyDir(t, o.Dir, crashed)
			tt.tear(t, s, crashed)

			o.Dir = crashed
			s2 := mustOpen(t, o)
			waitRebuild(t, s2)
			st := s2.Stats()
			if st.RebuildScanned != st.RebuildTotal || st.RebuildTotal == 0 {
				t.Fatalf("progress %d/%d, want complete", st.RebuildScanned, st.RebuildTotal)
			}
			checkSet(t, s2, 0)
			miss(t, s2, 30)
			if tt.torn != 0 {
				miss(t, s2, tt.torn)
			} else {
				check(t, s2, 8, 400<<10)
			}
			if st.Corrupt != 0 || st.Errors != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// flip inverts one byte of a file.
func flip(t testing.TB, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func TestRebuildServesWhileScanning(t *testing.T) {
	o := testOptions(t.TempDir())
	s := mustOpen(t, o)
	for i := range 12 {
		put(t, s, i, 500<<10) // two objects a segment
	}
	crashed := t.TempDir()
	copyDir(t, o.Dir, crashed)

	scanned := make(chan int64)
	resume := make(chan struct{})
	rebuildHook = func(n int64) {
		scanned <- n
		<-resume
	}
	defer func() { rebuildHook = nil }()
	o.Dir = crashed
	s2 := mustOpen(t, o)
	<-scanned // the first segment is indexed, the rest not yet
	st := s2.Stats()
	if !st.Rebuilding || st.RebuildScanned == 0 || st.RebuildScanned >= st.RebuildTotal {
		t.Fatalf("mid-rebuild stats %+v", st)
	}
	check(t, s2, 0, 500<<10)
	miss(t, s2, 11)
	put(t, s2, 100, 1000) // Puts work during the rebuild
	s2.Delete(keyOf(10))  // and a Delete of a key not yet scanned sticks
	rebuildHook = func(int64) {}
	close(resume)
	waitRebuild(t, s2)
	for i := range 12 {
		if i != 10 {
			check(t, s2, i, 500<<10)
		}
	}
	miss(t, s2, 10)
	check(t, s2, 100, 1000)
}
