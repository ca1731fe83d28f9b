package disk

import "fmt"

// Options configures a Store. The zero value of each field but Dir and Size
// selects its default.
type Options struct {
	// Dir holds the segment files, the index and a lock file. It is created
	// if missing.
	Dir string

	// Size bounds the bytes the store keeps on disk: SegmentSize times the
	// number of segments, Size/SegmentSize. It must allow at least
	// MinSegments segments of MinSegmentSize.
	Size int64

	// SegmentSize is the size of one segment file, a multiple of 4 KiB. If
	// zero, 64 MiB is used, lowered so that Size holds at least MinSegments
	// segments. Reusing a segment drops every object that starts in it, so
	// smaller segments evict in finer steps and larger ones write longer
	// sequential runs.
	SegmentSize int64

	// IOWorkers is the number of Puts that may write at once; one more
	// returns ErrBusy at once. If zero, 2 is used.
	IOWorkers int

	// WriteRate caps the bytes per second all Puts write together, so that a
	// burst of fills leaves the disk to hits. If zero, 256 MiB/s is used; a
	// negative value removes the cap.
	WriteRate int64

	// MaxObject is the largest body stored. If zero, Size/4 is used. It is
	// lowered so that one object never spans the whole ring.
	MaxObject int64
}

// Defaults and limits of Options.
const (
	DefaultSegmentSize = 64 << 20
	DefaultIOWorkers   = 2
	DefaultWriteRate   = 256 << 20
	MinSegmentSize     = 1 << 20 // holds the largest head record (see maxRecord)
	MinSegments        = 4
	maxSegments        = 1 << 20
	maxObjectLimit     = 1<<40 - 1 // the index keeps 40 bits of size
	maxStoreSize       = 1 << 50   // index addresses wrap at 2^51
)

// normalize applies the defaults and checks the result. Errors name the
// field and the reason.
func (o Options) normalize() (Options, error) {
	if o.Dir == "" {
		return o, fmt.Errorf("disk: Options.Dir: empty")
	}
	if o.Size <= 0 || o.Size > maxStoreSize {
		return o, fmt.Errorf("disk: Options.Size %d: want 1..%d", o.Size, int64(maxStoreSize))
	}
	if o.SegmentSize == 0 {
		o.SegmentSize = DefaultSegmentSize
		if o.Size/o.SegmentSize < MinSegments {
			o.SegmentSize = max(MinSegmentSize, o.Size/MinSegments&^(4<<10-1))
		}
	}
	if o.SegmentSize < MinSegmentSize || o.SegmentSize%(4<<10) != 0 {
		return o, fmt.Errorf("disk: Options.SegmentSize %d: want a multiple of 4096, at least %d", o.SegmentSize, MinSegmentSize)
	}
	if n := o.Size / o.SegmentSize; n < MinSegments || n > maxSegments {
		return o, fmt.Errorf("disk: Options.Size %d: holds %d segments of %d bytes, want %d..%d",
			o.Size, n, o.SegmentSize, MinSegments, maxSegments)
	}
	o.Size = o.Size / o.SegmentSize * o.SegmentSize
	if o.IOWorkers == 0 {
		o.IOWorkers = DefaultIOWorkers
	}
	if o.IOWorkers < 0 {
		return o, fmt.Errorf("disk: Options.IOWorkers %d: negative", o.IOWorkers)
	}
	if o.WriteRate == 0 {
		o.WriteRate = DefaultWriteRate
	}
	if o.MaxObject == 0 {
		o.MaxObject = o.Size / 4
	}
	if o.MaxObject < 0 {
		return o, fmt.Errorf("disk: Options.MaxObject %d: negative", o.MaxObject)
	}
	// A body of MaxObject bytes with its chunk headers must leave at least
	// one segment of the ring untouched (see Store.reserve).
	nseg := o.Size / o.SegmentSize
	data := o.SegmentSize - segHeaderSize
	perSeg := data / int64(recordSize(0, 0, ChunkSize)) * ChunkSize
	o.MaxObject = min(o.MaxObject, (nseg-2)*perSeg, maxObjectLimit)
	return o, nil
}

// pacing returns the token bucket's rate in bytes per second (0: no cap)
// and its burst.
func (o Options) pacing() (rate float64, burst float64) {
	if o.WriteRate < 0 {
		return 0, 0
	}
	return float64(o.WriteRate), max(float64(o.WriteRate)/16, float64(maxRecord))
}
