package disk

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"syscall"
	"time"

	"github.com/cespare/xxhash/v2"
)

// writeBuf holds one record while it is written: the header, then the key
// and meta (head record only), then up to ChunkSize bytes of body. A Put
// reads the body into it one chunk at a time, so a 100 MiB object costs
// this buffer and no more.
type writeBuf [recHeaderSize + MaxKey + MaxMeta + ChunkSize]byte

// span is a reservation: the records of one object (or one tombstone) from
// head record address addr up to end, in segments first..last.
type span struct {
	addr, end   int64
	first, last int64
}

// Put stores an object: key (at most MaxKey bytes), meta (opaque, at most
// MaxMeta bytes) and exactly size bytes of body read from body. An expires
// of zero means none; Get misses once it has passed.
//
// Put runs on the caller's goroutine and does disk I/O: call it from a
// worker, never from an event loop. It returns ErrBusy at once when
// Options.IOWorkers Puts are already writing, and is paced by
// Options.WriteRate. When body fails or ends early it returns ErrIncomplete
// (wrapping the reader's error) and indexes nothing; an older version of
// the key stays served. The new version replaces the old one only once all
// its bytes are written.
func (s *Store) Put(key, meta []byte, body io.Reader, size int64, expires time.Time) error {
	if err := s.usable(); err != nil {
		return err
	}
	if len(key) == 0 || len(key) > MaxKey || len(meta) > MaxMeta || size < 0 || size > s.opt.MaxObject {
		return ErrTooLarge
	}
	exp := unixExpiry(expires)
	if exp != 0 && int64(exp) <= time.Now().Unix() {
		return nil // already stale: nothing to serve later
	}
	var buf *writeBuf
	select {
	case buf = <-s.slots:
	default:
		s.busy.Add(1)
		return ErrBusy
	}
	if buf == nil {
		buf = new(writeBuf)
	}
	defer func() { s.slots <- buf }()
	if err := s.beginIO(); err != nil {
		return err
	}
	defer s.endIO()
	err := s.put(buf, key, meta, body, size, exp)
	if err != nil && !errors.Is(err, ErrBusy) && !errors.Is(err, ErrClosed) {
		s.errs.Add(1)
	}
	return err
}

func (s *Store) put(buf *writeBuf, key, meta []byte, body io.Reader, size int64, exp uint32) error {
	l := layout{keyLen: len(key), metaLen: len(meta), size: size}
	h := xxhash.Sum64(key)

	// The head record's body is read before the reservation, so a small
	// object from a slow reader holds no part of the ring while it arrives.
	kmEnd := recHeaderSize + len(key) + len(meta)
	copy(buf[recHeaderSize:], key)
	copy(buf[recHeaderSize+len(key):], meta)
	if _, err := io.ReadFull(body, buf[kmEnd:kmEnd+l.bodyLen(0)]); err != nil {
		return fmt.Errorf("%w: %w", ErrIncomplete, err)
	}
	sp, err := s.reserve(l)
	if err != nil {
		return err
	}
	defer s.release(sp)

	rh := recHeader{flags: flagHead, keyLen: len(key), metaLen: len(meta), bodyLen: l.bodyLen(0),
		addr: sp.addr, head: sp.addr, size: size, expires: exp}
	if l.chunks() == 1 {
		rh.flags |= flagLast
	}
	if err := s.writeRecord(buf[:kmEnd+rh.bodyLen], &rh); err != nil {
		return err
	}
	p := sp.addr + l.recLen(0)
	for i := int64(1); i < l.chunks(); i++ {
		n := l.bodyLen(i)
		if _, err := io.ReadFull(body, buf[recHeaderSize:recHeaderSize+n]); err != nil {
			return fmt.Errorf("%w: %w", ErrIncomplete, err)
		}
		p = s.geo.place(p, l.recLen(i))
		rh = recHeader{bodyLen: n, addr: p, head: sp.addr, size: size, expires: exp, chunk: i}
		if i == l.chunks()-1 {
			rh.flags = flagLast
		}
		if err := s.writeRecord(buf[:recHeaderSize+n], &rh); err != nil {
			return err
		}
		p += l.recLen(i)
	}
	if s.insert(h, sp.addr, size, exp, false) {
		s.puts.Add(1)
	}
	return nil
}

// writeRecord fills in the header of the record in b (payload already in
// place after the header), waits for the pacing budget and writes it.
func (s *Store) writeRecord(b []byte, rh *recHeader) error {
	rh.dataCRC = crc32.Checksum(b[recHeaderSize:], castagnoli)
	rh.encode(b, s.salt)
	if !s.pace.wait(len(b), s.stop) {
		return ErrClosed
	}
	i, off := s.geo.file(rh.addr)
	t := time.Now()
	_, err := s.files[i].WriteAt(b, off)
	s.writeLat.add(time.Since(t))
	if err != nil {
		if errors.Is(err, syscall.ENOSPC) {
			return fmt.Errorf("disk: %w", err) // the file system is full: this Put fails, the store goes on
		}
		return s.fail(err)
	}
	return nil
}

// reserve allocates the log space for an object's records, entering (and
// so reusing) every segment the records reach. It refuses with ErrBusy to
// reuse a segment that a Put still writes into, and with ErrTooLarge an
// object that would overwrite its own beginning.
func (s *Store) reserve(l layout) (span, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.usable(); err != nil {
		return span{}, err
	}
	a := s.geo.place(s.head, l.recLen(0))
	end := s.geo.end(a, l)
	sp := span{addr: a, end: end, first: a / s.geo.segSize, last: (end - 1) / s.geo.segSize}
	if sp.last-sp.first >= s.geo.nseg {
		return span{}, ErrTooLarge
	}
	for k := s.seg + 1; k <= sp.last; k++ {
		if s.inflight[k%s.geo.nseg] > 0 {
			s.busy.Add(1)
			return span{}, ErrBusy
		}
	}
	for k := s.seg + 1; k <= sp.last; k++ {
		if err := s.enter(k); err != nil {
			return span{}, err
		}
	}
	for k := sp.first; k <= sp.last; k++ {
		s.inflight[k%s.geo.nseg]++
	}
	s.head = end
	return sp, nil
}

func (s *Store) release(sp span) {
	s.wmu.Lock()
	for k := sp.first; k <= sp.last; k++ {
		s.inflight[k%s.geo.nseg]--
	}
	s.wmu.Unlock()
}

// enter starts segment n: it drops the objects of the segment it replaces
// (reclaim), checks that the file still exists (a removed directory leaves
// open files writable but lost), sizes the file and writes the segment
// header. Called with wmu held.
func (s *Store) enter(n int64) error {
	s.reclaim(n)
	i := int(n % s.geo.nseg)
	if _, err := osStat(s.segPath(i)); err != nil {
		return s.fail(err)
	}
	f := s.files[i]
	if !s.allocated[i] {
		if err := sizeFile(f, s.geo.segSize); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return fmt.Errorf("disk: %w", err)
			}
			return s.fail(err)
		}
		s.allocated[i] = true
	}
	var b [64]byte
	(&segHeader{segSize: s.geo.segSize, number: n, nseg: s.geo.nseg, salt: s.salt}).encode(b[:])
	if _, err := f.WriteAt(b[:], 0); err != nil {
		return s.fail(err)
	}
	s.seg = n
	select {
	case s.sweepc <- struct{}{}:
	default:
	}
	return nil
}

// writeTomb appends a tombstone for key, so that a rebuild after a crash
// does not bring back a deleted object.
func (s *Store) writeTomb(key []byte) {
	if s.usable() != nil || s.beginIO() != nil {
		return
	}
	defer s.endIO()
	l := layout{keyLen: len(key)}
	sp, err := s.reserve(l)
	if err != nil {
		s.errs.Add(1)
		return
	}
	defer s.release(sp)
	b := make([]byte, recHeaderSize+len(key))
	copy(b[recHeaderSize:], key)
	rh := recHeader{flags: flagTomb, keyLen: len(key), addr: sp.addr, head: sp.addr}
	if err := s.writeRecord(b, &rh); err != nil {
		s.errs.Add(1)
	}
}

// Delete removes key from the index and reports whether it was there. It
// then writes a small tombstone record (one pwrite, not paced), so call it
// from a worker goroutine like Put. The tombstone keeps a rebuild after a
// crash from indexing the object again; if it cannot be written (ring busy,
// store failed), Stats.Errors counts it and only that protection is lost.
func (s *Store) Delete(key []byte) bool {
	if s.closed.Load() {
		return false
	}
	ok := s.remove(xxhash.Sum64(key), -1, true)
	if ok || s.rebuilding.Load() {
		s.writeTomb(key)
	}
	return ok
}
