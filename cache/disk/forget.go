package disk

import "github.com/cespare/xxhash/v2"

// Forget removes key from the index and reports whether it was there. It
// does no I/O, so an event loop may call it: a PURGE answered on the loop is
// gone from the disk tier before its answer is sent. Follow it with
// Tombstone on a worker when it returns true or while Rebuilding, or a
// rebuild after a crash may index the object again.
func (s *Store) Forget(key []byte) bool {
	if s.closed.Load() {
		return false
	}
	return s.remove(xxhash.Sum64(key), -1, true)
}

// Tombstone writes the record that keeps a rebuild from indexing key's
// older versions, as Delete does after its index update. It does disk I/O:
// call it from a worker.
func (s *Store) Tombstone(key []byte) {
	if s.closed.Load() {
		return
	}
	s.writeTomb(key)
}

// Rebuilding reports whether the scan after an unclean stop is still
// running. It only loads a flag.
func (s *Store) Rebuilding() bool { return s.rebuilding.Load() }

// MaxObject returns the largest body Put accepts (Options.MaxObject after
// its defaults and limits).
func (s *Store) MaxObject() int64 { return s.opt.MaxObject }
