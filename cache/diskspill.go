package cache

import (
	"bytes"
	"encoding/binary"
	"io"
	"time"

	"edgeproxy/codec"
)

// The disk tier (package cache/disk, wired by the engine) keeps objects
// under their URL key with a meta blob this file encodes, so that an object
// read back from disk is judged by exactly the rules, and the stored times,
// of a memory entry:
//
//	the 80-byte fixed part of an entry (entry.go), kind byte kindDisk and
//	tier-L id 0, then the header block, then u32 length and the lower-cased
//	Vary field names, then u32 length and the secondary key of the request
//	that caused the fill.
//
// One variant per URL lives on disk: the latest one written. A request
// whose secondary key differs misses on disk and its fill replaces it. That
// needs no Vary record on disk, which could outlive or lose its variants.
const kindDisk = 3

// DiskObject is a committed object bound for the disk tier: what the
// engine passes to disk.Store.Put.
type DiskObject struct {
	Key     []byte    // URL key
	Meta    []byte    // encoded as above; DiskHit and Promote read it
	Size    int64     // body length
	Expires time.Time // when the disk index drops it: the end of freshness, zero (never) with a validator
	chunks  [][]byte
}

// Body returns a reader over the body. The chunks it reads never change
// after Commit, so any goroutine may read them while tier L or followers
// still send them.
func (o *DiskObject) Body() io.Reader { return &chunkReader{chunks: o.chunks} }

// chunkReader reads a body held as chunks.
type chunkReader struct {
	chunks [][]byte
	off    int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.chunks) > 0 && r.off == len(r.chunks[0]) {
		r.chunks, r.off = r.chunks[1:], 0
	}
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0][r.off:])
	r.off += n
	return n, nil
}

// DiskObject returns the object a successful Commit stored, for the disk
// tier's write-behind. It reports false when w did not commit, or when the
// object is neither fresh nor revalidatable (see diskUntil).
func (w *Writer) DiskObject() (DiskObject, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state != complete || w.refuse != nil {
		return DiskObject{}, false
	}
	m := w.meta
	m.size = w.size
	exp, ok := diskUntil(&m, time.Now())
	if !ok {
		return DiskObject{}, false
	}
	return DiskObject{
		Key:     w.key,
		Meta:    appendDiskMeta(nil, &m, w.block, w.names, w.sec),
		Size:    w.size,
		Expires: exp,
		chunks:  w.chunks,
	}, true
}

// DiskMeta is DiskObject for a response that streams to the disk tier only,
// because its declared Content-Length is larger than MaxObject: the meta of
// the response m to req under key, and when it stops being fresh. It
// reports false when the response may not be stored or is not fresh.
func (c *Cache) DiskMeta(key []byte, req *codec.Request, m *Meta) (blob []byte, expires time.Time, ok bool) {
	if len(key) == 0 || key[0] == 0 || m.ContentLength < 0 {
		return nil, time.Time{}, false
	}
	sm := *m
	sm.ContentLength = -1 // every rule of Storable but the memory tiers' size limit
	if !c.Storable(req, &sm) {
		return nil, time.Time{}, false
	}
	var d Directives
	headerDirectives(m.Header, &d)
	t := responseTimes(m)
	var om meta
	c.objectMeta(key, m.Status, &d, m.Header, t, &om)
	k := buildBlock(m.Header, timeOf(t.response))
	om.hdrLen = uint32(len(k.b))
	om.etagOff, om.etagLen, om.lmOff, om.lmLen = k.etagOff, k.etagLen, k.lmOff, k.lmLen
	om.size = m.ContentLength
	var names, sec []byte
	if names, _ = appendVaryNames(nil, m.Header); len(names) > 0 {
		sec = appendSecondary(nil, names, req)
	}
	exp, ok := diskUntil(&om, time.Now())
	if !ok {
		return nil, time.Time{}, false
	}
	return appendDiskMeta(nil, &om, k.b, names, sec), exp, true
}

// MaxObject returns the largest body the memory tiers store.
func (c *Cache) MaxObject() int64 { return c.maxObject }

// diskUntil returns how long the disk tier keeps m: an object with a
// validator (ETag or Last-Modified) until its segment is reused, since once
// stale it is revalidated with a conditional request and a 304 saves its
// whole body (zero time: no expiry); any other object until it stops being
// fresh. It reports false for an object without a validator that is stale
// at now or must be revalidated before every use.
func diskUntil(m *meta, now time.Time) (time.Time, bool) {
	if m.etagLen > 0 || m.lmLen > 0 {
		return time.Time{}, true
	}
	if m.flags&flagNoCache != 0 {
		return time.Time{}, false
	}
	ttl := m.lifetime - currentAge(m, now.UnixNano())
	if ttl <= 0 {
		return time.Time{}, false
	}
	return now.Add(time.Duration(ttl)), true
}

// appendDiskMeta encodes the disk meta of an object.
func appendDiskMeta(dst []byte, m *meta, block, names, sec []byte) []byte {
	mm := *m
	mm.largeID = 0
	mm.hdrLen = uint32(len(block))
	start := len(dst)
	dst = appendMeta(dst, &mm)
	dst[start] = kindDisk
	dst = append(dst, block...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(names)))
	dst = append(dst, names...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(sec)))
	return append(dst, sec...)
}

// diskMeta is a decoded disk meta; its slices are views into the blob.
type diskMeta struct {
	m          meta
	block      []byte
	names, sec []byte
}

// decodeDiskMeta reads a disk meta and checks its lengths.
func decodeDiskMeta(v []byte, dm *diskMeta) bool {
	if len(v) < metaSize || v[0] != kindDisk {
		return false
	}
	decodeFixed(v, &dm.m)
	m := &dm.m
	rest := v[metaSize:]
	if uint64(m.hdrLen) > uint64(len(rest)) || m.largeID != 0 || m.size < 0 ||
		uint64(m.etagOff)+uint64(m.etagLen) > uint64(m.hdrLen) ||
		uint64(m.lmOff)+uint64(m.lmLen) > uint64(m.hdrLen) {
		return false
	}
	dm.block, rest = rest[:m.hdrLen:m.hdrLen], rest[m.hdrLen:]
	var ok bool
	if dm.names, rest, ok = lengthPrefixed(rest); !ok {
		return false
	}
	dm.sec, rest, ok = lengthPrefixed(rest)
	return ok && len(rest) == 0
}

// lengthPrefixed splits a u32-length-prefixed field off b.
func lengthPrefixed(b []byte) (field, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.LittleEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n : 4+n], b[4+n:], true
}

// DiskHit decides how the object whose disk meta is meta (and whose body
// the disk holds) may answer req at now, by the rules Lookup applies to a
// memory entry. The Hit's Header and validators are views into meta; its
// Body and Large are nil: the caller reads the body from disk. The decision
// is Miss when meta is not a disk meta or the object is another variant
// than req selects (Vary, RFC 9111 §4.1).
func (c *Cache) DiskHit(meta []byte, req *codec.Request, now time.Time) (Hit, Decision) {
	var dm diskMeta
	if !decodeDiskMeta(meta, &dm) {
		return Hit{}, Miss
	}
	if len(dm.names) > 0 {
		var buf [lookupBuf]byte
		if !bytes.Equal(appendSecondary(buf[:0], dm.names, req), dm.sec) {
			return Hit{}, Miss
		}
	}
	var rd Directives
	requestDirectives(req, &rd)
	ns := now.UnixNano()
	d, age, ttl := decide(&dm.m, &rd, ns)
	if rd.Has(CCOnlyIfCached) && (d == StaleRevalidate || d == StaleIfError) {
		return Hit{}, OnlyIfCachedMiss
	}
	h := Hit{
		Status:    int(dm.m.status),
		Header:    dm.block,
		Size:      dm.m.size,
		Age:       time.Duration(age),
		TTL:       time.Duration(ttl),
		ByRequest: byRequest(&dm.m, d, ttl),
		modTime:   dm.m.modTime,
		now:       ns / int64(time.Second),
	}
	if dm.m.etagLen > 0 {
		h.ETag = dm.block[dm.m.etagOff : dm.m.etagOff+dm.m.etagLen]
	}
	if dm.m.lmLen > 0 {
		h.LastModified = dm.block[dm.m.lmOff : dm.m.lmOff+dm.m.lmLen]
	}
	return h, d
}

// Promote stores an object read back from the disk tier in memory, as if a
// fill had just committed it: meta is its disk meta, body its bytes in
// chunks of 256 KiB (the last one shorter). The chunks are kept, not
// copied: they must not change afterwards. Run it on a worker.
func (c *Cache) Promote(key, meta []byte, body [][]byte) error {
	var dm diskMeta
	if !decodeDiskMeta(meta, &dm) || len(key) == 0 || key[0] == 0 {
		return ErrNotStorable
	}
	var size int64
	for i, ch := range body {
		if i < len(body)-1 && len(ch) != chunkSize {
			return ErrLength
		}
		size += int64(len(ch))
	}
	if size != dm.m.size {
		return ErrLength
	}
	if size > c.maxObject {
		return ErrTooLarge
	}
	w := &Writer{
		c:      c,
		key:    key,
		meta:   dm.m,
		block:  dm.block,
		status: int(dm.m.status),
		chunks: body,
		size:   size,
		state:  complete,
	}
	if len(dm.names) > 0 {
		w.names, w.sec = dm.names, dm.sec
	}
	if !c.fits(w) {
		return ErrTooLarge
	}
	return c.store(w)
}
