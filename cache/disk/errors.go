package disk

import "errors"

// Sentinel errors. The store returns exactly these values, or wraps them with
// %w around the system error that caused them, so callers compare with
// errors.Is and never by text.
var (
	// ErrBusy means every write slot (Options.IOWorkers) is taken, or the
	// ring cannot advance because a slow Put still writes into the segment it
	// would reuse. The caller simply does not store the object.
	ErrBusy = errors.New("disk: write queue full")

	// ErrFailed means the store saw an I/O error (EIO, a vanished directory)
	// and stopped: Gets miss and Puts fail until it is reopened.
	ErrFailed = errors.New("disk: store failed")

	// ErrClosed means the store was used after Close.
	ErrClosed = errors.New("disk: store closed")

	// ErrTooLarge means the key, the metadata or the body exceeds MaxKey,
	// MaxMeta or Options.MaxObject.
	ErrTooLarge = errors.New("disk: object too large")

	// ErrIncomplete means Put's body reader failed or ended before size
	// bytes; nothing was indexed.
	ErrIncomplete = errors.New("disk: body shorter than size")

	// ErrCorrupt means a record failed its checksum or header check on read.
	// The entry has been dropped from the index; the caller refetches.
	ErrCorrupt = errors.New("disk: corrupt record")

	// ErrEvicted means the ring reused the object's segment while it was
	// being read. The caller treats it as a miss.
	ErrEvicted = errors.New("disk: object evicted during read")

	// ErrNotFound means the record found under the key's hash holds another
	// key (a 64-bit hash collision). The caller treats it as a miss.
	ErrNotFound = errors.New("disk: key not found")

	// ErrLocked means another Store, in this process or another, has the
	// directory open.
	ErrLocked = errors.New("disk: directory in use by another store")
)
