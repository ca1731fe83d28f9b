package disk

import (
	"bytes"
	"errors"
	"hash/crc32"
	"io"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Object is a stored object found by Get. Its exported fields come from the
// index; Meta and ReadAt read the disk, and belong on worker goroutines.
// All methods are safe for concurrent use.
type Object struct {
	Size    int64     // body length
	Expires time.Time // zero for none
	// Hits counts the Gets that found this object since it was stored or
	// the store was opened, this one included, up to 255: a caller can
	// promote small objects with a few hits to memory.
	Hits int

	s    *Store
	key  []byte
	hash uint64
	addr int64 // logical address of the head record

	mu      sync.Mutex // protects the fields below
	loaded  bool
	loadErr error  // sticky: the head record failed to load
	meta    []byte // view into the head record
	body0   []byte // the head record's body: chunk 0
	lay     layout
	chunkI  int64 // chunk whose address chunkA caches, for sequential reads
	chunkA  int64
}

// Get looks key up in the in-memory index. It does no I/O and allocates only
// the returned Object on a hit, so an event loop may call it. A hit is a
// strong hint, not a promise: the key is compared with the one on disk by
// the first Meta or ReadAt, which may still report ErrNotFound (a 64-bit hash
// collision), ErrEvicted or ErrCorrupt. An expired object is a miss.
func (s *Store) Get(key []byte) (*Object, bool) {
	if s.closed.Load() || s.failed.Load() {
		s.misses.Add(1)
		return nil, false
	}
	h := xxhash.Sum64(key)
	sh := s.idx.shard(h)
	sh.mu.Lock()
	e, ok := sh.m[h]
	if !ok {
		sh.mu.Unlock()
		s.misses.Add(1)
		return nil, false
	}
	a, live := s.resolve(e)
	if !live {
		delete(sh.m, h) // its segment was reused: already uncounted
		sh.mu.Unlock()
		s.misses.Add(1)
		return nil, false
	}
	if e.expired(time.Now().Unix()) {
		sh.mu.Unlock()
		s.remove(h, a, false)
		s.misses.Add(1)
		return nil, false
	}
	e.hit()
	sh.m[h] = e
	sh.mu.Unlock()
	s.hits.Add(1)
	o := &Object{Size: e.size(), Hits: e.hits(), s: s, key: bytes.Clone(key), hash: h, addr: a}
	if e.c != 0 {
		o.Expires = time.Unix(int64(e.c), 0)
	}
	return o, true
}

// Meta returns the meta stored with the object. The first call (or the first
// ReadAt) reads the head record, which holds the key, the meta and the first
// ChunkSize bytes of body, in one pread and checks its CRC and key. The
// slice is shared: do not modify it.
func (o *Object) Meta() ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.load(); err != nil {
		return nil, err
	}
	return o.meta, nil
}

// metaGuess is the meta length the first read of a head record assumes; a
// longer meta costs a second pread.
const metaGuess = 4 << 10

// load reads the head record. Called with o.mu held.
func (o *Object) load() error {
	if o.loaded || o.loadErr != nil {
		return o.loadErr
	}
	s := o.s
	if err := s.beginIO(); err != nil {
		return err
	}
	defer s.endIO()
	body0 := int(min(o.Size, ChunkSize))
	n := recHeaderSize + len(o.key) + metaGuess + body0
	_, off := s.geo.file(o.addr)
	n = int(min(int64(n), s.geo.segSize-off))
	buf := make([]byte, n)
	got, err := s.readAt(buf, o.addr, recHeaderSize)
	if err != nil {
		return o.failLoad(err)
	}
	var rh recHeader
	if !rh.decode(buf, s.salt) || rh.flags&flagHead == 0 || rh.addr != o.addr || rh.size != o.Size ||
		rh.bodyLen != body0 {
		return o.failLoad(errCheck)
	}
	rec := recHeaderSize + rh.payload()
	if rec > len(buf) {
		buf = append(buf, make([]byte, rec-len(buf))...)
	}
	buf = buf[:rec]
	if got < rec {
		if _, err := s.readAt(buf[got:], o.addr+int64(got), rec-got); err != nil {
			return o.failLoad(err)
		}
	}
	if crc32.Checksum(buf[recHeaderSize:], castagnoli) != rh.dataCRC {
		return o.failLoad(errCheck)
	}
	if err := o.stillLive(); err != nil {
		return o.failLoad(err)
	}
	k := buf[recHeaderSize : recHeaderSize+rh.keyLen]
	if !bytes.Equal(k, o.key) {
		o.loadErr = ErrNotFound
		return ErrNotFound
	}
	m := recHeaderSize + rh.keyLen
	o.meta = buf[m : m+rh.metaLen : m+rh.metaLen]
	o.body0 = buf[m+rh.metaLen:]
	o.lay = layout{keyLen: rh.keyLen, metaLen: rh.metaLen, size: o.Size}
	o.chunkI, o.chunkA = 0, o.addr
	o.loaded = true
	return nil
}

func (o *Object) failLoad(err error) error {
	o.loadErr = o.fail(err)
	return o.loadErr
}

// errCheck is a record whose header or checksum is wrong.
var errCheck = errors.New("disk: record check failed")

// stillLive returns ErrEvicted once the ring has reused the object's first
// segment. Segments are reused in log order, so bytes read before this check
// passes are the object's own.
func (o *Object) stillLive() error {
	if o.s.tail.Load() > o.addr {
		return ErrEvicted
	}
	return nil
}

// fail classifies a read error: a failed check or a truncated record is
// corruption, unless the ring reused the space meanwhile; the entry is
// dropped and ErrCorrupt returned. I/O errors have already failed the store.
func (o *Object) fail(err error) error {
	if !errors.Is(err, errCheck) && !errors.Is(err, errTruncated) {
		return err
	}
	if o.stillLive() != nil {
		return ErrEvicted
	}
	o.s.errs.Add(1)
	if o.s.remove(o.hash, o.addr, false) {
		o.s.torn.Add(1)
	}
	return ErrCorrupt
}

// ReadAt implements io.ReaderAt over the body. Every byte returned belongs to
// a record whose CRC was checked on this read: a read that covers whole
// chunks (ChunkSize-aligned, ChunkSize long, or the tail) goes straight into
// p; a partial chunk is read whole into a pooled buffer, checked, and copied.
// Errors: ErrCorrupt (the entry is gone from the index), ErrEvicted,
// ErrNotFound, ErrFailed, ErrClosed.
func (o *Object) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("disk: negative offset")
	}
	if off >= o.Size {
		return 0, io.EOF
	}
	o.mu.Lock()
	err := o.load()
	o.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if err := o.s.beginIO(); err != nil {
		return 0, err
	}
	defer o.s.endIO()
	n := 0
	for n < len(p) && off < o.Size {
		i, co := off/ChunkSize, int(off%ChunkSize)
		clen := o.lay.bodyLen(i)
		want := min(clen-co, len(p)-n)
		dst := p[n : n+want]
		var err error
		switch {
		case i == 0:
			copy(dst, o.body0[co:])
		case co == 0 && want == clen:
			err = o.readChunk(i, dst)
		default:
			err = o.readPart(i, co, dst)
		}
		if err != nil {
			return n, err
		}
		n += want
		off += int64(want)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// chunkAddr returns the address of chunk i (i >= 1), walking the layout from
// the last chunk looked up, or from the head.
func (o *Object) chunkAddr(i int64) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	j, a := o.chunkI, o.chunkA
	if j > i {
		j, a = 0, o.addr
	}
	for ; j < i; j++ {
		a = o.s.geo.place(a+o.lay.recLen(j), o.lay.recLen(j+1))
	}
	o.chunkI, o.chunkA = i, a
	return a
}

// readChunk reads chunk i, whose body is exactly len(dst) bytes, into dst.
func (o *Object) readChunk(i int64, dst []byte) error {
	a := o.chunkAddr(i)
	var hb [recHeaderSize]byte
	if err := o.s.readFull(hb[:], a); err != nil {
		return o.fail(err)
	}
	if err := o.s.readFull(dst, a+recHeaderSize); err != nil {
		return o.fail(err)
	}
	return o.check(hb[:], dst, a, i)
}

// chunkPool holds whole chunk records for reads of part of a chunk.
var chunkPool = sync.Pool{New: func() any { return new([recHeaderSize + ChunkSize]byte) }}

// readPart reads chunk i whole, checks it, and copies len(dst) bytes from
// offset co of its body.
func (o *Object) readPart(i int64, co int, dst []byte) error {
	a := o.chunkAddr(i)
	b := chunkPool.Get().(*[recHeaderSize + ChunkSize]byte)
	defer chunkPool.Put(b)
	rec := b[:recHeaderSize+o.lay.bodyLen(i)]
	if err := o.s.readFull(rec, a); err != nil {
		return o.fail(err)
	}
	if err := o.check(rec[:recHeaderSize], rec[recHeaderSize:], a, i); err != nil {
		return err
	}
	copy(dst, rec[recHeaderSize+co:])
	return nil
}

// check verifies chunk record i at address a: header hb, body.
func (o *Object) check(hb, body []byte, a, i int64) error {
	var rh recHeader
	if !rh.decode(hb, o.s.salt) || rh.addr != a || rh.head != o.addr || rh.chunk != i ||
		rh.bodyLen != len(body) || rh.flags&(flagHead|flagTomb) != 0 ||
		crc32.Checksum(body, castagnoli) != rh.dataCRC {
		return o.fail(errCheck)
	}
	return o.stillLive()
}
