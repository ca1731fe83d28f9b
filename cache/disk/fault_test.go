package disk

import (
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestCorruptionDetectedAtRead(t *testing.T) {
	s := mustOpen(t, testOptions(t.TempDir()))
	put(t, s, 1, 10_000)
	put(t, s, 2, 3*ChunkSize)
	path, off := location(t, s, 1)
	flip(t, path, off+recHeaderSize+int64(len(keyOf(1))+len(metaOf(1)))+5000)
	path, off2 := location(t, s, 2)
	flip(t, path, off2+recordSize(len(keyOf(2)), len(metaOf(2)), ChunkSize)+recordSize(0, 0, ChunkSize)+recHeaderSize+7)

	o, _ := s.Get(keyOf(1))
	if _, err := o.ReadAt(make([]byte, 10), 0); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("ReadAt of a corrupt head: got %v, want ErrCorrupt", err)
	}
	miss(t, s, 1)

	o, _ = s.Get(keyOf(2))
	if _, err := o.ReadAt(make([]byte, ChunkSize), 0); err != nil {
		t.Fatalf("ReadAt of an intact chunk: %v", err)
	}
	for _, n := range []int{ChunkSize, 100} { // direct and partial chunk reads
		if _, err := o.ReadAt(make([]byte, n), 2*ChunkSize); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("ReadAt(%d) of a corrupt chunk: got %v, want ErrCorrupt", n, err)
		}
	}
	miss(t, s, 2)
	if st := s.Stats(); st.Corrupt != 2 || st.Objects != 0 || st.Failed {
		t.Fatalf("stats %+v", st)
	}
	put(t, s, 2, 3*ChunkSize) // the caller refetches
	check(t, s, 2, 3*ChunkSize)
}

func TestFillPastSize(t *testing.T) {
	s := mustOpen(t, testOptions(t.TempDir()))
	capacity := s.Stats().Capacity
	var written int64
	var sizes []int64
	for i := 0; written < 3*capacity; i++ {
		size := int64(10<<10 + i*37_123%(300<<10))
		put(t, s, i, size)
		sizes = append(sizes, size)
		written += size
		if st := s.Stats(); st.Bytes > capacity || st.Errors != 0 {
			t.Fatalf("after %d bytes: %d bytes stored, %d errors; capacity %d", written, st.Bytes, st.Errors, capacity)
		}
	}
	n := len(sizes)
	for i := range 5 {
		miss(t, s, i)
	}
	var newest int64
	for i := n - 1; newest < capacity/2; i-- {
		check(t, s, i, sizes[i])
		newest += sizes[i]
	}
	st := s.Stats()
	t.Logf("%d objects written, %d stored in %d bytes of %d", n, st.Objects, st.Bytes, capacity)
	// The counters agree with the index.
	s.sweep()
	var count int64
	for i := range s.idx.shards {
		count += int64(len(s.idx.shards[i].m))
	}
	if count != st.Objects {
		t.Fatalf("index holds %d entries, Stats %d objects", count, st.Objects)
	}
}

// blockingReader blocks its first Read until release is closed.
type blockingReader struct {
	started chan struct{}
	release chan struct{}
	once    sync.Once
	r       io.Reader
}

func (b *blockingReader) Read(p []byte) (int, error) {
	b.once.Do(func() { close(b.started); <-b.release })
	return b.r.Read(p)
}

func TestFullQueueIsBusy(t *testing.T) {
	o := testOptions(t.TempDir())
	o.IOWorkers = 1
	s := mustOpen(t, o)
	br := &blockingReader{started: make(chan struct{}), release: make(chan struct{}), r: newGen(1, 1000)}
	done := make(chan error)
	go func() { done <- s.Put(keyOf(1), nil, br, 1000, time.Time{}) }()
	<-br.started
	start := time.Now()
	if err := s.Put(keyOf(2), nil, newGen(2, 10), 10, time.Time{}); err != ErrBusy {
		t.Fatalf("Put with the queue full: got %v, want ErrBusy", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("ErrBusy took %v", d)
	}
	close(br.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	put(t, s, 2, 10)
	if st := s.Stats(); st.Busy != 1 || st.Puts != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestPacingLeavesReadsAlone(t *testing.T) {
	o := testOptions(t.TempDir())
	o.WriteRate = 4 << 20
	s := mustOpen(t, o)
	put(t, s, 1, 100<<10)
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		put(t, s, 2, 2<<20) // about 1.4 MiB over the burst: ~350 ms at 4 MiB/s
	}()
	time.Sleep(20 * time.Millisecond)
	r := time.Now()
	check(t, s, 1, 100<<10)
	if d := time.Since(r); d > 200*time.Millisecond {
		t.Fatalf("a read during paced writes took %v", d)
	}
	<-done
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("2 MiB at 4 MiB/s took %v, want pacing", d)
	}
}

// faultFile fails reads or writes with EIO.
type faultFile struct {
	segFile
	read, write bool
}

func (f faultFile) ReadAt(p []byte, off int64) (int, error) {
	if f.read {
		return 0, &os.PathError{Op: "pread", Path: "seg", Err: syscall.EIO}
	}
	return f.segFile.ReadAt(p, off)
}

func (f faultFile) WriteAt(p []byte, off int64) (int, error) {
	if f.write {
		return 0, &os.PathError{Op: "pwrite", Path: "seg", Err: syscall.EIO}
	}
	return f.segFile.WriteAt(p, off)
}

func TestFailingDisk(t *testing.T) {
	for _, tt := range []struct {
		name        string
		read, write bool
	}{{"read EIO", true, false}, {"write EIO", false, true}} {
		t.Run(tt.name, func(t *testing.T) {
			s := mustOpen(t, testOptions(t.TempDir()))
			put(t, s, 1, 1000)
			o, _ := s.Get(keyOf(1))
			for i, f := range s.files {
				s.files[i] = faultFile{f, tt.read, tt.write}
			}
			if tt.read {
				if _, err := o.ReadAt(make([]byte, 10), 0); !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.EIO) {
					t.Fatalf("ReadAt: got %v, want ErrFailed wrapping EIO", err)
				}
			} else {
				if err := s.Put(keyOf(2), nil, newGen(2, 10), 10, time.Time{}); !errors.Is(err, ErrFailed) {
					t.Fatalf("Put: got %v, want ErrFailed", err)
				}
			}
			assertFailed(t, s)
		})
	}
}

func TestDirectoryVanishes(t *testing.T) {
	o := testOptions(t.TempDir())
	s := mustOpen(t, o)
	put(t, s, 0, 1000)
	if err := os.RemoveAll(o.Dir); err != nil {
		t.Fatal(err)
	}
	var err error
	for i := 1; i < 20 && err == nil; i++ { // writes go on until the next segment
		err = s.Put(keyOf(i), nil, newGen(int64(i), 300<<10), 300<<10, time.Time{})
	}
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("Put after the directory vanished: got %v, want ErrFailed", err)
	}
	assertFailed(t, s)
}

func assertFailed(t *testing.T, s *Store) {
	t.Helper()
	st := s.Stats()
	if !st.Failed || st.Err == nil {
		t.Fatalf("stats %+v, want failed", st)
	}
	miss(t, s, 1)
	if err := s.Put(keyOf(3), nil, newGen(3, 10), 10, time.Time{}); err != ErrFailed {
		t.Fatalf("Put on a failed store: got %v, want ErrFailed", err)
	}
	s.Delete(keyOf(1))
	s.Close()
}
