package disk

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"time"

	"github.com/cespare/xxhash/v2"
)

// segInfo is a segment found on disk by its header.
type segInfo struct {
	number int64 // logical segment number
	file   int
	size   int64 // bytes to scan: the file's size, at most the segment size
}

// rebuildHook, when set by a test, runs after each segment the rebuild
// scans.
var rebuildHook func(number int64)

// startRebuild reads the segment headers, sets the log to continue in a
// fresh segment after the newest one, and starts the background scan of
// the segments still in the ring, oldest first. With no valid segment it
// sets up an empty store.
func (s *Store) startRebuild() error {
	var found []segInfo
	var newest segHeader
	headers := make([]segHeader, s.geo.nseg)
	for i, f := range s.files {
		var b [64]byte
		if _, err := f.ReadAt(b[:], 0); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("disk: %s: %w", s.segPath(i), err)
		}
		h := &headers[i]
		if !h.decode(b[:]) || h.segSize != s.geo.segSize || h.nseg != s.geo.nseg ||
			h.number < s.geo.nseg || h.number%s.geo.nseg != int64(i) || h.number > maxStoreSize/s.geo.segSize {
			*h = segHeader{}
			continue
		}
		if h.number > newest.number {
			newest = *h
		}
	}
	if newest.number == 0 {
		s.salt = newSalt()
		s.seg = s.geo.nseg - 1
		s.head = s.geo.nseg * s.geo.segSize
		s.tail.Store(0)
		return nil
	}
	var total int64
	for i, h := range headers {
		if h.number == 0 || h.salt != newest.salt || h.number <= newest.number-s.geo.nseg {
			continue
		}
		fi, err := s.files[i].Stat()
		if err != nil {
			return fmt.Errorf("disk: %w", err)
		}
		sg := segInfo{number: h.number, file: i, size: min(fi.Size(), s.geo.segSize)}
		found = append(found, sg)
		total += sg.size
	}
	slices.SortFunc(found, func(a, b segInfo) int { return int(a.number - b.number) })
	s.salt = newest.salt
	s.seg = newest.number
	s.head = (newest.number + 1) * s.geo.segSize
	s.tail.Store((newest.number + 1 - s.geo.nseg) * s.geo.segSize)
	s.rebuildDeleted = make(map[uint64]struct{})
	s.scanTotal.Store(total)
	s.rebuilding.Store(true)
	s.bg.Go(func() { s.rebuild(found) })
	return nil
}

// pending is a multi-record object whose head the scan has seen and whose
// chunks it is checking one by one.
type pending struct {
	active  bool
	hash    uint64
	head    int64
	lay     layout
	expires uint32
	next    int64 // index of the chunk expected next
	at      int64 // its address
}

// rebuild scans segments in log order and indexes every object whose
// records are all present and intact. Later versions of a key win over
// earlier ones, tombstones remove what precedes them, and Puts and Deletes
// made meanwhile win over anything the scan finds (insert, remove).
func (s *Store) rebuild(segs []segInfo) {
	// The buffer holds the largest record, so Peek can hand out a whole one.
	br := bufio.NewReaderSize(nil, int(maxRecord)+recHeaderSize)
	var p pending
	prev := int64(-1)
	for _, sg := range segs {
		if sg.number != prev+1 {
			p = pending{}
		}
		prev = sg.number
		if !s.scanSegment(br, sg, &p) {
			return // stopped or failed: the index stays incomplete and is not saved
		}
		if rebuildHook != nil {
			rebuildHook(sg.number)
		}
	}
	s.acctMu.Lock()
	s.rebuildDeleted = nil
	s.acctMu.Unlock()
	s.scanned.Store(s.scanTotal.Load())
	s.rebuilding.Store(false)
}

// scanSegment indexes one segment's records and reports whether the scan
// should go on. A position whose header does not check (the unwritten rest
// of a reservation, bytes of an earlier lap, a torn write) is skipped to the
// next aligned record magic; a record whose header checks but whose payload
// does not is skipped whole, so bytes inside it are never taken for records.
func (s *Store) scanSegment(br *bufio.Reader, sg segInfo, p *pending) bool {
	base := sg.number * s.geo.segSize
	var done int64
	defer func() { s.scanned.Add(sg.size - done) }()
	if sg.size <= segHeaderSize {
		return true
	}
	br.Reset(io.NewSectionReader(s.files[sg.file], segHeaderSize, sg.size-segHeaderSize))
	pos := base + segHeaderSize
	for {
		select {
		case <-s.stop:
			return false
		default:
		}
		if s.tail.Load() > base {
			*p = pending{}
			return true // the writer has reused this segment
		}
		hb, err := br.Peek(recHeaderSize)
		if err != nil {
			return s.scanEnd(err)
		}
		var rh recHeader
		if !rh.decode(hb, s.salt) || rh.addr != pos {
			b, _ := br.Peek(br.Buffered())
			n := nextMagic(b)
			br.Discard(n)
			pos += int64(n)
			continue
		}
		n := recordSize(rh.keyLen, rh.metaLen, rh.bodyLen)
		rec, err := br.Peek(recHeaderSize + rh.payload())
		if err != nil {
			return s.scanEnd(err)
		}
		if crc32.Checksum(rec[recHeaderSize:], castagnoli) == rh.dataCRC {
			s.scanRecord(&rh, rec, p)
		} else {
			*p = pending{}
		}
		if _, err := br.Discard(int(n)); err != nil {
			return s.scanEnd(err)
		}
		pos += n
		s.scanned.Add(pos - base - done)
		done = pos - base
	}
}

// nextMagic returns the distance to the next 8-byte aligned position after
// the start of b that holds a record magic, or the aligned length of b when
// none does: where the scan tries a header next.
func nextMagic(b []byte) int {
	for i := 8; i+4 <= len(b); i += 8 {
		if binary.LittleEndian.Uint32(b[i:]) == recMagic {
			return i
		}
	}
	return max(8, len(b)&^7)
}

// scanEnd handles the error that ends a segment's scan: the end of the file
// (a truncated record included) ends the segment, anything else fails the
// store.
func (s *Store) scanEnd(err error) bool {
	if errors.Is(err, io.EOF) {
		return true
	}
	s.fail(err)
	return false
}

// scanRecord applies one intact record to the index.
func (s *Store) scanRecord(rh *recHeader, rec []byte, p *pending) {
	switch {
	case rh.flags&flagTomb != 0:
		*p = pending{}
		s.removeBefore(xxhash.Sum64(rec[recHeaderSize:recHeaderSize+rh.keyLen]), rh.addr)
	case rh.flags&flagHead != 0:
		*p = pending{}
		l := layout{keyLen: rh.keyLen, metaLen: rh.metaLen, size: rh.size}
		if rh.keyLen == 0 || rh.head != rh.addr || rh.chunk != 0 || rh.bodyLen != l.bodyLen(0) {
			return
		}
		h := xxhash.Sum64(rec[recHeaderSize : recHeaderSize+rh.keyLen])
		if l.chunks() == 1 {
			if rh.flags&flagLast != 0 {
				s.insertRebuilt(h, rh.addr, rh.size, rh.expires)
			}
			return
		}
		*p = pending{active: true, hash: h, head: rh.addr, lay: l, expires: rh.expires, next: 1,
			at: s.geo.place(rh.addr+l.recLen(0), l.recLen(1))}
	default:
		l := p.lay
		if !p.active || rh.head != p.head || rh.chunk != p.next || rh.addr != p.at || rh.size != l.size ||
			rh.bodyLen != l.bodyLen(rh.chunk) || (rh.flags&flagLast != 0) != (rh.chunk == l.chunks()-1) {
			*p = pending{}
			return
		}
		if rh.flags&flagLast != 0 {
			s.insertRebuilt(p.hash, p.head, l.size, p.expires)
			*p = pending{}
			return
		}
		p.next++
		p.at = s.geo.place(rh.addr+l.recLen(rh.chunk), l.recLen(p.next))
	}
}

func (s *Store) insertRebuilt(h uint64, addr, size int64, expires uint32) {
	if expires != 0 && int64(expires) <= time.Now().Unix() {
		return
	}
	s.insert(h, addr, size, expires, true)
}
