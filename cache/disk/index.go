package disk

import (
	"math"
	"sync"
	"time"
)

// entry is an object's place in the index: 16 bytes next to its 8-byte key
// hash in a Go map, about 40 bytes per object with the map's overhead
// (TestIndexBytesPerObject measures it).
//
//	a: bits 0..47  logical address / 8, modulo 2^48 (see Store.resolve)
//	   bits 48..55 body size bits 32..39
//	   bits 56..63 hit count, saturating at 255
//	b: body size bits 0..31
//	c: expiry in unix seconds, 0 for none
//
// The key itself stays on disk, in the head record, and is compared there.
type entry struct {
	a    uint64
	b, c uint32
}

const (
	addrBits = 48
	addrMask = 1<<addrBits - 1
	maxHits  = 255
)

func makeEntry(addr, size int64, expires uint32) entry {
	return entry{
		a: uint64(addr)>>3&addrMask | uint64(size>>32&0xff)<<addrBits,
		b: uint32(size),
		c: expires,
	}
}

func (e entry) size() int64 { return int64(e.a>>addrBits&0xff)<<32 | int64(e.b) }
func (e entry) hits() int   { return int(e.a >> 56) }

func (e *entry) hit() {
	if e.hits() < maxHits {
		e.a += 1 << 56
	}
}

// expired reports whether the entry's expiry is at or before now (unix
// seconds).
func (e entry) expired(now int64) bool { return e.c != 0 && int64(e.c) <= now }

// unixExpiry converts an expiry time to the stored form: 0 for none, 1 for
// any time before 1970-01-01T00:00:01Z, and at most 2106-02-07.
func unixExpiry(t time.Time) uint32 {
	if t.IsZero() {
		return 0
	}
	return uint32(min(max(t.Unix(), 1), math.MaxUint32))
}

// shardCount spreads the index over this many maps, each with its own lock,
// so that Gets from several event loops rarely meet.
const shardCount = 64

type shard struct {
	mu sync.Mutex // protects m
	m  map[uint64]entry
	_  [48]byte // pads a shard to 64 bytes: neighbouring locks share no cache line
}

// index maps xxhash(key) to entry. Lock order: a shard's mu, then
// Store.acctMu.
type index struct {
	shards [shardCount]shard
}

func newIndex() *index {
	x := new(index)
	for i := range x.shards {
		x.shards[i].m = make(map[uint64]entry)
	}
	return x
}

// shard picks a map by the hash's top bits; the map itself hashes the rest.
func (x *index) shard(h uint64) *shard { return &x.shards[h>>58] }

// resolve returns an entry's full logical address, and false when the ring
// has reused the segment the object starts in. Entries keep 48 bits of
// address/8; the full address is the one in [tail, tail+2^51) with those
// bits. An entry whose address lies before tail (by less than 2^51 bytes,
// which the sweeper guarantees by deleting such entries) maps past the end of
// the ring and is reported dead.
func (s *Store) resolve(e entry) (int64, bool) {
	t := s.tail.Load()
	d := (e.a - uint64(t)>>3) & addrMask
	if int64(d) >= s.ringBytes>>3 {
		return 0, false
	}
	return t + int64(d)<<3, true
}

// insert indexes an object whose records are all on disk. It keeps a newer
// object (a higher address) already indexed under the same hash, refuses an
// object whose segment the ring has reused, and, during a rebuild, refuses
// keys deleted since the rebuild began.
func (s *Store) insert(h uint64, addr, size int64, expires uint32, rebuilt bool) bool {
	sh := s.idx.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s.acctMu.Lock()
	defer s.acctMu.Unlock()
	if addr < s.tail.Load() {
		return false
	}
	if rebuilt {
		if _, gone := s.rebuildDeleted[h]; gone {
			return false
		}
	}
	if old, ok := sh.m[h]; ok {
		if oa, live := s.resolve(old); live {
			if oa >= addr {
				return false
			}
			s.account(oa, -1, -old.size())
		}
	}
	sh.m[h] = makeEntry(addr, size, expires)
	s.account(addr, 1, size)
	return true
}

// remove drops the entry for h if it starts at addr (any address when addr
// is negative) and reports whether a live entry was dropped. With tomb set
// during a rebuild, it also keeps the rebuild from indexing h again.
func (s *Store) remove(h uint64, addr int64, tomb bool) bool {
	sh := s.idx.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s.acctMu.Lock()
	defer s.acctMu.Unlock()
	if tomb && s.rebuildDeleted != nil {
		s.rebuildDeleted[h] = struct{}{}
	}
	e, ok := sh.m[h]
	if !ok {
		return false
	}
	a, live := s.resolve(e)
	if addr >= 0 && (!live || a != addr) {
		return false
	}
	delete(sh.m, h)
	if live {
		s.account(a, -1, -e.size())
	}
	return live
}

// removeBefore drops the entry for h if it starts before addr: a tombstone
// found by the rebuild at addr.
func (s *Store) removeBefore(h uint64, addr int64) {
	sh := s.idx.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s.acctMu.Lock()
	defer s.acctMu.Unlock()
	e, ok := sh.m[h]
	if !ok {
		return
	}
	if a, live := s.resolve(e); !live || a < addr {
		delete(sh.m, h)
		if live {
			s.account(a, -1, -e.size())
		}
	}
}

// account adds to the live counts of the segment an object starts in.
// Called with acctMu held.
func (s *Store) account(addr int64, objects, bytes int64) {
	i, _ := s.geo.file(addr)
	s.segObjects[i] += objects
	s.segBytes[i] += bytes
	s.objects.Add(objects)
	s.bytes.Add(bytes)
}

// reclaim raises tail past segment n-nseg, the segment that entering
// segment n overwrites, and forgets its objects' counts. Entries still in
// the maps are dead from here on (resolve) and are deleted by the sweeper.
func (s *Store) reclaim(n int64) {
	s.acctMu.Lock()
	defer s.acctMu.Unlock()
	s.tail.Store((n + 1 - s.geo.nseg) * s.geo.segSize)
	i := int(n % s.geo.nseg)
	s.objects.Add(-s.segObjects[i])
	s.bytes.Add(-s.segBytes[i])
	s.segObjects[i], s.segBytes[i] = 0, 0
}

// sweep deletes dead and expired entries, one shard at a time.
func (s *Store) sweep() {
	now := time.Now().Unix()
	for i := range s.idx.shards {
		sh := &s.idx.shards[i]
		sh.mu.Lock()
		s.acctMu.Lock() // holds tail still between resolve and account
		for h, e := range sh.m {
			a, live := s.resolve(e)
			if !live || e.expired(now) {
				delete(sh.m, h)
				if live {
					s.account(a, -1, -e.size())
				}
			}
		}
		s.acctMu.Unlock()
		sh.mu.Unlock()
	}
}
