package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"

	"edgeproxy/cache"
	"edgeproxy/cache/disk"
	"edgeproxy/engine/config"
)

// The disk tier (cache.dirs) puts a cache/disk store behind the memory
// tiers. Which directory holds a key follows from the key's hash, so with
// several disks each key has one home.
//
// Writes: write-behind, as Traffic Server does. Every object a fill commits
// to memory is also queued for its directory's writers, which Put the
// cache's own metadata, header block and the body chunks the memory tiers
// already hold (they never change after Commit, so no copy is made). An
// object evicted from memory is therefore already on disk. The queue is
// bounded in objects and in bytes, and a Put the store refuses with ErrBusy
// (its write pacing) is dropped: a burst of misses costs disk copies, never
// the disk bandwidth that hits need, and never a client's time. A response
// whose declared length is over cache.max_object (so memory will not hold
// it) streams to disk instead while it is relayed, through a spool of a few
// MiB (diskspool.go); collapsed-forwarding followers of such a fill fetch
// for themselves.
//
// Reads: a memory miss goes to a worker anyway, so the worker, not the
// event loop, asks the store's in-memory index first (diskread.go): the
// loop's hit path is untouched and allocates nothing, and the Object that
// Get allocates is a worker's. A fresh object streams from disk in
// 256 KiB reads through the sink's watermark, so a slow client costs no
// memory; a stale one with a validator is read back into memory and
// revalidated like a stale memory entry (objects with a validator stay on
// disk until their segment is reused, others until they stop being fresh);
// a corrupt one is dropped and fetched again.

// Tuning of the disk tier.
const (
	writeBehindWorkers = 2        // Puts from the write-behind queue, per directory
	spoolSlots         = 2        // disk-only streams of large objects, per directory
	writeQueueObjects  = 512      // objects waiting for write-behind, per directory
	writeQueueBytes    = 64 << 20 // their body bytes, per directory
	promoteHits        = 2        // disk hits before an object is copied into memory
)

// A directory whose metadata read takes longer than slowDiskRead is
// skipped for slowDiskPause: its requests go to the origin as misses, so a
// disk in trouble (a failing drive retrying, a saturated controller) costs
// uplink bytes rather than workers stuck behind it. Variables for tests.
var (
	slowDiskRead  = 500 * time.Millisecond
	slowDiskPause = 10 * time.Second
)

// diskTier is the set of cache directories.
type diskTier struct {
	dirs []*diskDir
	log  *slog.Logger
	stop chan struct{}
	wg   sync.WaitGroup
}

// diskDir is one directory: its store (nil when it could not be opened) and
// its write-behind queue.
type diskDir struct {
	path    string
	st      *disk.Store
	openErr error
	rebuild bool // the store opened without an index and scans its segments

	mu     sync.RWMutex // writers of jobs hold it shared; close takes it
	closed bool
	jobs   chan diskJob
	queued atomic.Int64 // body bytes in jobs
	spools chan struct{}

	skipped  atomic.Int64 // write-behinds dropped: queue full
	promoted atomic.Int64 // disk hits copied into memory
	served   atomic.Int64 // answers sent from disk

	slowUntil  atomic.Int64 // unix ns before which reads are skipped (slowDiskRead)
	slowPauses atomic.Int64 // times it was paused
	slowSkips  atomic.Int64 // lookups skipped meanwhile
}

// usable reports whether d may be read now: open, and not paused for
// slowness.
func (d *diskDir) usable(now time.Time) bool {
	if d.st == nil {
		return false
	}
	if now.UnixNano() < d.slowUntil.Load() {
		d.slowSkips.Add(1)
		return false
	}
	return true
}

// timed notes how long a read that began at start took, pausing d when it
// was slow.
func (d *diskDir) timed(start time.Time) {
	if time.Since(start) > slowDiskRead {
		d.slowUntil.Store(time.Now().Add(slowDiskPause).UnixNano())
		d.slowPauses.Add(1)
	}
}

// diskJob is a write-behind: an object to Put, or a tombstone to write.
type diskJob struct {
	obj  cache.DiskObject
	tomb []byte
}

// openDisk opens every directory. A directory another process holds is an
// error; one that fails otherwise (a dead disk) is logged and left out of
// service, and the proxy runs on the others.
func openDisk(dirs []config.CacheDir, log *slog.Logger) (*diskTier, error) {
	t := &diskTier{log: log, stop: make(chan struct{})}
	for _, cd := range dirs {
		d := &diskDir{
			path:   cd.Path,
			jobs:   make(chan diskJob, writeQueueObjects),
			spools: make(chan struct{}, spoolSlots),
		}
		st, err := disk.Open(disk.Options{Dir: cd.Path, Size: int64(cd.Size), IOWorkers: writeBehindWorkers + spoolSlots})
		switch {
		case errors.Is(err, disk.ErrLocked):
			t.close()
			return nil, fmt.Errorf("cache.dirs: %s: %w", cd.Path, err)
		case err != nil:
			log.Error("disk cache directory out of service", "dir", cd.Path, "err", err)
			d.openErr = err
		default:
			d.st = st
			s := st.Stats()
			log.Info("disk cache directory open", "dir", cd.Path, "objects", s.Objects, "capacity", s.Capacity)
			if d.rebuild = s.Rebuilding; d.rebuild {
				log.Info("disk index rebuild started: no index from a clean stop; serving what is scanned so far",
					"dir", cd.Path, "total", s.RebuildTotal)
			}
			for range writeBehindWorkers {
				t.wg.Add(1)
				go t.writer(d)
			}
		}
		t.dirs = append(t.dirs, d)
	}
	t.wg.Add(1)
	go t.monitor()
	return t, nil
}

// pick returns the directory that holds key.
func (t *diskTier) pick(key []byte) *diskDir {
	if len(t.dirs) == 1 {
		return t.dirs[0]
	}
	return t.dirs[xxhash.Sum64(key)%uint64(len(t.dirs))]
}

// writeBehind queues the object a Writer has just committed for its
// directory. A full queue drops it.
func (t *diskTier) writeBehind(w *cache.Writer) {
	o, ok := w.DiskObject()
	if !ok {
		return
	}
	d := t.pick(o.Key)
	if d.st == nil || o.Size > d.st.MaxObject() {
		return
	}
	if d.queued.Add(o.Size) > writeQueueBytes || !d.enqueue(diskJob{obj: o}) {
		d.queued.Add(-o.Size)
		d.skipped.Add(1)
	}
}

// enqueue hands a job to the directory's writers without waiting.
func (d *diskDir) enqueue(j diskJob) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return false
	}
	select {
	case d.jobs <- j:
		return true
	default:
		return false
	}
}

// writer runs a directory's write-behind queue.
func (t *diskTier) writer(d *diskDir) {
	defer t.wg.Done()
	for j := range d.jobs {
		if j.tomb != nil {
			d.st.Tombstone(j.tomb)
			continue
		}
		err := d.st.Put(j.obj.Key, j.obj.Meta, j.obj.Body(), j.obj.Size, j.obj.Expires)
		d.queued.Add(-j.obj.Size)
		if err != nil && !errors.Is(err, disk.ErrBusy) && !errors.Is(err, disk.ErrClosed) {
			t.log.Debug("disk write failed", "dir", d.path, "key", string(j.obj.Key), "err", err)
		}
	}
}

// forget removes key from its directory's index at once, without I/O, so
// the event loop may call it; the tombstone that makes the removal survive
// a crash is written by the directory's writers.
func (t *diskTier) forget(key []byte) bool {
	d := t.pick(key)
	if d.st == nil {
		return false
	}
	removed := d.st.Forget(key)
	if removed || d.st.Rebuilding() {
		d.enqueue(diskJob{tomb: append([]byte(nil), key...)})
	}
	return removed
}

// invalidate removes what the cache holds for a URL key, in memory and on
// disk (PURGE, RFC 9111 §4.4). It does no I/O.
func (s *Server) invalidate(key []byte) bool {
	removed := s.cache.Invalidate(key)
	if s.disk != nil && s.disk.forget(key) {
		removed = true
	}
	return removed
}

// monitor logs rebuild progress and directories that fail, until close.
func (t *diskTier) monitor() {
	defer t.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	rebuilding := make([]bool, len(t.dirs))
	failed := make([]bool, len(t.dirs))
	for i, d := range t.dirs {
		rebuilding[i] = d.rebuild
	}
	var lastLog time.Time
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
		logProgress := time.Since(lastLog) >= 5*time.Second
		for i, d := range t.dirs {
			if d.st == nil {
				continue
			}
			s := d.st.Stats()
			switch {
			case s.Rebuilding && logProgress:
				t.log.Info("disk index rebuild", "dir", d.path, "scanned", s.RebuildScanned, "total", s.RebuildTotal, "objects", s.Objects)
				lastLog = time.Now()
			case !s.Rebuilding && rebuilding[i]:
				t.log.Info("disk index rebuild finished", "dir", d.path, "objects", s.Objects, "bytes", s.Bytes)
			}
			rebuilding[i] = s.Rebuilding
			if s.Failed && !failed[i] {
				t.log.Error("disk cache directory failed: out of service until restart", "dir", d.path, "err", s.Err)
				failed[i] = true
			}
		}
	}
}

// close stops the writers once their queues are written, then closes the
// stores, which writes their indexes for a fast start.
func (t *diskTier) close() {
	for _, d := range t.dirs {
		d.mu.Lock()
		if !d.closed {
			d.closed = true
			close(d.jobs)
		}
		d.mu.Unlock()
	}
	close(t.stop)
	t.wg.Wait()
	for _, d := range t.dirs {
		if d.st == nil {
			continue
		}
		if err := d.st.Close(); err != nil {
			t.log.Warn("disk cache directory close", "dir", d.path, "err", err)
		}
	}
}
