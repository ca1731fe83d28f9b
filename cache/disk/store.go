package disk

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// segFile is what the store needs of a segment file. *os.File implements it
// with pread and pwrite; tests wrap it to inject failures.
type segFile interface {
	io.ReaderAt
	io.WriterAt
	Stat() (os.FileInfo, error)
	Truncate(size int64) error
	Sync() error
	Close() error
}

// Store is one cache directory: a ring of segment files and an in-memory
// index. All methods are safe for concurrent use. Get and Delete's index
// update touch memory only; Put, Delete's tombstone and Object's methods do
// disk I/O and belong on worker goroutines, never on an event loop.
type Store struct {
	opt       Options
	geo       geometry
	ringBytes int64 // nseg * segSize
	lock      *os.File
	files     []segFile
	salt      uint64
	idx       *index

	tail atomic.Int64 // lowest live logical address; written under acctMu

	acctMu         sync.Mutex          // protects the fields below and writes to tail
	segObjects     []int64             // live objects by the segment they start in
	segBytes       []int64             // their body bytes
	rebuildDeleted map[uint64]struct{} // hashes deleted while a rebuild runs; nil otherwise

	wmu       sync.Mutex // protects the fields below
	head      int64      // next free logical address
	seg       int64      // the newest segment entered
	inflight  []int32    // by file: reservations not yet released
	allocated []bool     // by file: preallocated and sized this run

	closeMu sync.RWMutex   // held shared by every Put, tombstone and read; Close takes it
	slots   chan *writeBuf // one per IOWorker; a Put holds one while it writes
	pace    *bucket
	stop    chan struct{}  // closed by Close
	sweepc  chan struct{}  // wakes the sweeper after a segment is reused
	bg      sync.WaitGroup // the sweeper and the rebuild

	closed, failed, rebuilding atomic.Bool
	failErr                    atomic.Pointer[error]

	objects, bytes                       atomic.Int64
	hits, misses, puts, busy, errs, torn atomic.Int64
	readLat, writeLat                    ewma
	scanned, scanTotal                   atomic.Int64
}

// Stats is a snapshot of a Store's counters.
type Stats struct {
	Objects  int64 // objects indexed and not expired by the ring
	Bytes    int64 // their body bytes
	Capacity int64 // bytes the ring occupies on disk: Options.Size rounded to segments

	Hits, Misses int64 // Gets
	Puts         int64 // objects stored
	Busy         int64 // Puts refused with ErrBusy
	Errors       int64 // Puts, tombstones and reads that failed (not counting ErrBusy, ErrEvicted, ErrNotFound)
	Corrupt      int64 // records dropped at read for a failed checksum or header

	ReadLatency  time.Duration // moving average of one pread
	WriteLatency time.Duration // moving average of one record's pwrite

	// Rebuild progress after an unclean stop: bytes of segments scanned out
	// of RebuildTotal. Rebuilding is false once the scan has finished.
	RebuildScanned, RebuildTotal int64
	Rebuilding                   bool

	Failed bool  // an I/O error stopped the store
	Err    error // the error that did
}

// Open opens the store in o.Dir, creating it if needed. With the index file
// a clean Close left, the store is ready at once; otherwise it starts empty
// and a background scan of the segments indexes what they hold, newest
// version of each key last (see Stats.Rebuilding).
func Open(o Options) (*Store, error) {
	o, err := o.normalize()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	lock, err := lockDir(filepath.Join(o.Dir, "lock"))
	if err != nil {
		return nil, err
	}
	nseg := o.Size / o.SegmentSize
	s := &Store{
		opt:        o,
		geo:        geometry{segSize: o.SegmentSize, nseg: nseg},
		ringBytes:  o.Size,
		lock:       lock,
		idx:        newIndex(),
		segObjects: make([]int64, nseg),
		segBytes:   make([]int64, nseg),
		inflight:   make([]int32, nseg),
		allocated:  make([]bool, nseg),
		slots:      make(chan *writeBuf, o.IOWorkers),
		pace:       newBucket(o.pacing()),
		stop:       make(chan struct{}),
		sweepc:     make(chan struct{}, 1),
	}
	for range o.IOWorkers {
		s.slots <- nil // buffers are allocated by the first Put that needs one
	}
	for i := range nseg {
		f, err := os.OpenFile(s.segPath(int(i)), os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			s.closeFiles()
			return nil, fmt.Errorf("disk: %w", err)
		}
		s.files = append(s.files, f)
	}
	s.removeExtraSegments()
	if err := s.loadIndex(); err != nil {
		s.idx = newIndex()
		clear(s.segObjects)
		clear(s.segBytes)
		s.objects.Store(0)
		s.bytes.Store(0)
		if err := s.startRebuild(); err != nil {
			s.closeFiles()
			return nil, err
		}
	}
	s.bg.Go(s.sweeper)
	return s, nil
}

func (s *Store) segPath(i int) string {
	return filepath.Join(s.opt.Dir, fmt.Sprintf("seg-%05d", i))
}

// removeExtraSegments deletes segment files a larger Size left behind.
func (s *Store) removeExtraSegments() {
	names, _ := filepath.Glob(filepath.Join(s.opt.Dir, "seg-*"))
	for _, name := range names {
		n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(name), "seg-"))
		if err == nil && int64(n) >= s.geo.nseg {
			os.Remove(name)
		}
	}
}

// newSalt returns the random seed of a new store's header CRCs.
func newSalt() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

func (s *Store) sweeper() {
	for {
		select {
		case <-s.stop:
			return
		case <-s.sweepc:
			s.sweep()
		}
	}
}

// fail marks the store failed after an I/O error and returns ErrFailed
// wrapping it. Later Gets miss and Puts fail; nothing is retried.
func (s *Store) fail(err error) error {
	s.errs.Add(1)
	if s.failed.CompareAndSwap(false, true) {
		s.failErr.Store(&err)
	}
	return fmt.Errorf("%w: %w", ErrFailed, err)
}

// beginIO takes closeMu shared for one Put, tombstone or read, so that Close
// waits for it and closes no file under it. It fails, holding nothing, when
// the store is closed or failed; otherwise the caller must call endIO.
func (s *Store) beginIO() error {
	s.closeMu.RLock()
	if err := s.usable(); err != nil {
		s.closeMu.RUnlock()
		return err
	}
	return nil
}

func (s *Store) endIO() { s.closeMu.RUnlock() }

// usable returns ErrClosed or ErrFailed when the store can do no I/O.
func (s *Store) usable() error {
	if s.closed.Load() {
		return ErrClosed
	}
	if s.failed.Load() {
		return ErrFailed
	}
	return nil
}

// Stats returns a snapshot of the counters.
func (s *Store) Stats() Stats {
	st := Stats{
		Objects:        s.objects.Load(),
		Bytes:          s.bytes.Load(),
		Capacity:       s.ringBytes,
		Hits:           s.hits.Load(),
		Misses:         s.misses.Load(),
		Puts:           s.puts.Load(),
		Busy:           s.busy.Load(),
		Errors:         s.errs.Load(),
		Corrupt:        s.torn.Load(),
		ReadLatency:    s.readLat.get(),
		WriteLatency:   s.writeLat.get(),
		RebuildScanned: s.scanned.Load(),
		RebuildTotal:   s.scanTotal.Load(),
		Rebuilding:     s.rebuilding.Load(),
		Failed:         s.failed.Load(),
	}
	if p := s.failErr.Load(); p != nil {
		st.Err = *p
	}
	return st
}

// Close stops the store: it waits for Puts and reads in progress, stops the
// rebuild, and, when the store has not failed and its index is complete,
// syncs the segments and writes the index file that lets the next Open skip
// the rebuild. A Put blocked in its body reader delays Close until the
// reader returns.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	close(s.stop)
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	s.bg.Wait()
	var err error
	if !s.failed.Load() && !s.rebuilding.Load() {
		err = s.saveIndex()
	}
	if cerr := s.closeFiles(); err == nil {
		err = cerr
	}
	return err
}

func (s *Store) closeFiles() error {
	var err error
	for _, f := range s.files {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("disk: %w", cerr)
		}
	}
	s.lock.Close() // releases the flock
	return err
}

// ewma is a moving average of durations, updated without a lock.
type ewma struct{ v atomic.Int64 }

func (e *ewma) add(d time.Duration) {
	for {
		old := e.v.Load()
		n := int64(d)
		if old != 0 {
			n = old + (n-old)/16
		}
		if e.v.CompareAndSwap(old, n) {
			return
		}
	}
}

func (e *ewma) get() time.Duration { return time.Duration(e.v.Load()) }

// readAt preads up to len(p) bytes at logical address a and needs at least
// need of them. Fewer before the end of the file is a truncated record:
// errTruncated. Any other error fails the store.
func (s *Store) readAt(p []byte, a int64, need int) (int, error) {
	i, off := s.geo.file(a)
	t := time.Now()
	n, err := s.files[i].ReadAt(p, off)
	s.readLat.add(time.Since(t))
	if n >= need && (err == nil || errors.Is(err, io.EOF)) {
		return n, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return n, errTruncated
	}
	return n, s.fail(err)
}

// readFull preads exactly len(p) bytes at logical address a.
func (s *Store) readFull(p []byte, a int64) error {
	_, err := s.readAt(p, a, len(p))
	return err
}

// errTruncated is a record cut short by the end of its file: corruption,
// not a failing disk.
var errTruncated = errors.New("disk: record truncated")
