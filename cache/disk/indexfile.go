package disk

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"time"
)

// The index file, written by Close and removed by Open once read, so that
// only a clean stop leaves one:
//
//	header  magic "EPIX", version uint32, segSize, nseg, head, seg, tail int64, salt uint64
//	entries hash uint64, a uint64, b uint32, c uint32 (see entry), one per live object
//	trailer count int64, then CRC32C of everything before it
const (
	indexMagic      = 0x58495045 // "EPIX"
	indexHeaderSize = 64
	indexEntrySize  = 24
	indexName       = "index"
)

var errBadIndex = errors.New("disk: index file invalid")

// saveIndex syncs the segments, then writes the index to a temporary file
// and renames it into place.
func (s *Store) saveIndex() error {
	for _, f := range s.files {
		if err := f.Sync(); err != nil {
			return s.fail(err)
		}
	}
	path := filepath.Join(s.opt.Dir, indexName)
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return fmt.Errorf("disk: index: %w", err)
	}
	defer f.Close()
	crc := crc32.New(castagnoli)
	w := bufio.NewWriterSize(io.MultiWriter(f, crc), 256<<10)
	var b [indexHeaderSize]byte
	binary.LittleEndian.PutUint32(b[0:], indexMagic)
	binary.LittleEndian.PutUint32(b[4:], formatVersion)
	for i, v := range []int64{s.geo.segSize, s.geo.nseg, s.head, s.seg, s.tail.Load(), int64(s.salt)} {
		binary.LittleEndian.PutUint64(b[8+8*i:], uint64(v))
	}
	w.Write(b[:])
	var count int64
	now := time.Now().Unix()
	for i := range s.idx.shards {
		sh := &s.idx.shards[i]
		sh.mu.Lock() // a Get that began before Close may still count a hit
		for h, e := range sh.m {
			if _, live := s.resolve(e); !live || e.expired(now) {
				continue
			}
			binary.LittleEndian.PutUint64(b[0:], h)
			binary.LittleEndian.PutUint64(b[8:], e.a)
			binary.LittleEndian.PutUint32(b[16:], e.b)
			binary.LittleEndian.PutUint32(b[20:], e.c)
			w.Write(b[:indexEntrySize])
			count++
		}
		sh.mu.Unlock()
	}
	binary.LittleEndian.PutUint64(b[:], uint64(count))
	w.Write(b[:8])
	if err := w.Flush(); err != nil {
		return fmt.Errorf("disk: index: %w", err)
	}
	binary.LittleEndian.PutUint32(b[:], crc.Sum32())
	if _, err := f.Write(b[:4]); err != nil {
		return fmt.Errorf("disk: index: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("disk: index: %w", err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return fmt.Errorf("disk: index: %w", err)
	}
	return syncDir(s.opt.Dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	return nil
}

// loadIndex reads the index file a clean Close left and removes it, so that
// a crash from now on leads to a rebuild. It checks the CRC, that the
// geometry matches Options, and that the newest segment on disk is the one
// the index names. Called from Open, before any other goroutine runs.
func (s *Store) loadIndex() error {
	path := filepath.Join(s.opt.Dir, indexName)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() {
		f.Close()
		os.Remove(path)
		syncDir(s.opt.Dir)
	}()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	if size < indexHeaderSize+12 || (size-indexHeaderSize-12)%indexEntrySize != 0 {
		return errBadIndex
	}
	crc := crc32.New(castagnoli)
	if _, err := io.Copy(crc, io.NewSectionReader(f, 0, size-4)); err != nil {
		return err
	}
	var b [indexHeaderSize]byte
	if _, err := f.ReadAt(b[:4], size-4); err != nil || binary.LittleEndian.Uint32(b[:]) != crc.Sum32() {
		return errBadIndex
	}
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, size-12), 256<<10)
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return err
	}
	v := func(i int) int64 { return int64(binary.LittleEndian.Uint64(b[8+8*i:])) }
	if binary.LittleEndian.Uint32(b[0:]) != indexMagic || binary.LittleEndian.Uint32(b[4:]) != formatVersion ||
		v(0) != s.geo.segSize || v(1) != s.geo.nseg {
		return errBadIndex
	}
	head, seg, tail, salt := v(2), v(3), v(4), uint64(v(5))
	if seg < s.geo.nseg || tail != (seg+1-s.geo.nseg)*s.geo.segSize || head > (seg+1)*s.geo.segSize {
		return errBadIndex
	}
	var sb [64]byte
	var sh segHeader
	if _, err := s.files[seg%s.geo.nseg].ReadAt(sb[:], 0); err != nil || !sh.decode(sb[:]) ||
		sh.number != seg || sh.salt != salt {
		return errBadIndex
	}
	s.head, s.seg, s.salt = head, seg, salt
	s.tail.Store(tail)
	now := time.Now().Unix()
	n := (size - indexHeaderSize - 12) / indexEntrySize
	for range n {
		if _, err := io.ReadFull(r, b[:indexEntrySize]); err != nil {
			return err
		}
		h := binary.LittleEndian.Uint64(b[0:])
		e := entry{a: binary.LittleEndian.Uint64(b[8:]), b: binary.LittleEndian.Uint32(b[16:]), c: binary.LittleEndian.Uint32(b[20:])}
		a, live := s.resolve(e)
		if !live || a >= head || e.expired(now) {
			continue
		}
		s.idx.shard(h).m[h] = e
		s.account(a, 1, e.size())
	}
	if _, err := f.ReadAt(b[:8], size-12); err != nil || int64(binary.LittleEndian.Uint64(b[:])) != n {
		return errBadIndex
	}
	return nil
}
