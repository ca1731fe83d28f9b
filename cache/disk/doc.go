// Package disk is edgeproxy's disk tier: a store per cache directory that
// keeps objects of any size, from empty to hundreds of MiB, in a fixed
// amount of disk space, with a small index in memory.
//
// Ring. A store is Size/SegmentSize segment files (64 MiB by default) used
// as one circular log, as in Traffic Server's cyclone buffer or Squid's rock
// store. Puts append; when the log reaches a segment again, every object
// that starts there is dropped from the index before the segment is
// rewritten. A full store therefore evicts its oldest writes, in
// segment-sized steps, and never fails a Put for lack of space. Logical
// addresses grow forever; segment n lives in file n mod nseg.
//
// Records. An object is a head record holding the key, the meta (opaque to
// this package) and the first 256 KiB (ChunkSize) of body, followed by one
// chunk record per further 256 KiB. Each record has a 64-byte header with
// its own logical address, the head's address, lengths, expiry, a CRC32C of
// its payload and a CRC32C of the header seeded with a per-store salt (see
// format.go). A Put reserves the space of all its records at once, so they
// lie in order and where they lie follows from the head's address and the
// lengths: the index needs one address per object, whatever its size.
//
// Why one design serves 1 KiB and 100 MiB. A small object is one record:
// one pwrite to store, one pread to read key, meta and body together, 64
// bytes of header and no file, inode or allocation of its own. A large one
// streams: Put reads its body one chunk at a time into a fixed buffer, and
// ReadAt checks each chunk's CRC as it reads it, so memory stays at a few
// hundred KiB per transfer and a response can start before the whole body
// has been read. Splitting into chunk records rather than letting a record
// span segments keeps every record inside a segment (a reused segment never
// leaves half a record behind), and gives corruption a 256 KiB blast radius
// that is detected before those bytes reach a client, instead of a body
// checksum that fails after 100 MiB have been sent.
//
// Index. xxhash(key) maps to 16 bytes: 48 bits of address, 40 of size, a
// 32-bit expiry and an 8-bit hit count; with the Go map's overhead that is
// about 35 bytes an object (TestIndexBytesPerObject). The full key stays on
// disk and is compared by the first read, so a hash collision is a miss,
// never another URL's body. The index lives in 64 locked shards.
//
// Reads and writes. Get touches only the index, so an event loop may call
// it; Object.Meta and Object.ReadAt pread on the caller's goroutine and
// belong on workers. Put also runs on the caller's worker: at most
// IOWorkers at once (ErrBusy beyond, immediately), their bytes paced by a
// token bucket (WriteRate) so that a burst of fills leaves disk bandwidth to
// hits. A segment still being written by a slow Put is never reused
// (ErrBusy instead). A read that the ring overtakes returns ErrEvicted; a
// record whose checks fail returns ErrCorrupt and leaves the index. An I/O
// error, or a segment file gone from the directory, marks the store failed:
// Gets miss and Puts return ErrFailed.
//
// Restarts. Close syncs the segments and writes an index file with a CRC;
// Open loads it and deletes it, so only a clean stop leaves one. Without it
// (kill -9, power cut) Open starts empty and writes to a fresh segment while
// a goroutine scans the segments in log order, serving what it has indexed
// so far. The scan reads every byte, not only headers, because after a
// power cut a header can reach the disk without its payload: only objects
// whose every record checks are indexed, later versions win, and tombstones
// that Delete writes keep deleted objects from coming back. Reading from the
// page cache it covers a 64 MiB segment in about 16 ms; from disk it runs at
// sequential read speed.
//
// Why not an embedded store. bbolt keeps one B+tree in an mmap'd file with
// one writer transaction at a time and an fsync per commit; values are whole
// in memory, large ones land in overflow pages, freed pages fragment and the
// file never shrinks, and a page fault on a cold read blocks whatever thread
// touches it. pebble is an LSM: values go through a WAL and memtable and are
// rewritten by every compaction (heavy write amplification for large
// bodies), and freeing space to stay under a byte limit means tombstones and
// compactions. badger separates values into a log like this one, but
// reclaims space by garbage-collecting that log (rewriting live values) and
// also wants whole values in memory. A cache needs none of their
// transactions, ordering or per-write durability; it needs a hard byte
// bound, eviction in O(1) I/O, streaming of large bodies and corruption
// detection, which a FIFO ring of segments gives with one write per byte.
// (None of them is reachable here anyway: this package uses the standard
// library and xxhash only.)
package disk
