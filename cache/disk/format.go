package disk

import (
	"encoding/binary"
	"hash/crc32"
)

// On-disk format. All integers are little endian.
//
// A segment file starts with a segment header, padded to segHeaderSize:
//
//	0  magic   "EPSG"
//	4  version uint32
//	8  segSize int64    Options.SegmentSize when written
//	16 number  int64    logical segment number: file number*nseg+i holds segment i
//	24 nseg    int64
//	32 salt    uint64   random per store, seeds every record's header CRC
//	40 (zero) … 60 crc  CRC32C of bytes 0..59
//
// Records follow, each at an 8-byte aligned logical address, never crossing
// the end of a segment:
//
//	0  magic   "EPRC"
//	4  version uint8
//	5  flags   uint8    flagHead, flagLast, flagTomb
//	6  keyLen  uint16   key bytes in this record (head and tombstone only)
//	8  metaLen uint32   meta bytes in this record (head only)
//	12 bodyLen uint32   body bytes in this record, at most ChunkSize
//	16 addr    int64    logical address of this record
//	24 head    int64    logical address of the object's head record
//	32 size    int64    the object's whole body length
//	40 expires int64    unix seconds, 0 for none
//	48 chunk   uint32   index of this record in the object, 0 for the head
//	52 dataCRC uint32   CRC32C of key, meta and body
//	56 (zero)
//	60 hdrCRC  uint32   CRC32C of the salt and bytes 0..59
//
// then key, meta and body. An object is a head record carrying the key, the
// meta and the first ChunkSize bytes of body, followed by chunk records of
// ChunkSize bytes each (the last one shorter), at the addresses place gives.
// The addr field makes a record left over from an earlier lap of the ring
// invalid where it lies; the salt makes a forged header inside cached bytes
// invalid everywhere.
const (
	segHeaderSize = 4096
	recHeaderSize = 64
	segMagic      = 0x47535045 // "EPSG"
	recMagic      = 0x43525045 // "EPRC"
	formatVersion = 1

	// ChunkSize is the body bytes per record. ReadAt calls that cover whole
	// chunks read straight into the caller's buffer; smaller ones read the
	// chunk through a pooled buffer to check its CRC.
	ChunkSize = 256 << 10

	// MaxKey is the longest key; MaxMeta the longest meta.
	MaxKey  = 1<<16 - 1
	MaxMeta = 256 << 10
)

// Record flags.
const (
	flagHead = 1 << iota // first record of an object: key, meta, first chunk
	flagLast             // last record of an object
	flagTomb             // a Delete: the key only
)

// maxRecord is the longest record: a head record with the longest key and
// meta. A segment must hold one.
var maxRecord = recordSize(MaxKey, MaxMeta, ChunkSize)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// recordSize is the space a record takes: header and payload, rounded up to
// 8 bytes.
func recordSize(keyLen, metaLen, bodyLen int) int64 {
	return (int64(recHeaderSize+keyLen+metaLen+bodyLen) + 7) &^ 7
}

// recHeader is a decoded record header.
type recHeader struct {
	flags   uint8
	keyLen  int
	metaLen int
	bodyLen int
	addr    int64
	head    int64
	size    int64
	expires uint32
	chunk   int64
	dataCRC uint32
}

// payload is the number of bytes after the header.
func (h *recHeader) payload() int { return h.keyLen + h.metaLen + h.bodyLen }

func (h *recHeader) encode(b []byte, salt uint64) {
	binary.LittleEndian.PutUint32(b[0:], recMagic)
	b[4] = formatVersion
	b[5] = h.flags
	binary.LittleEndian.PutUint16(b[6:], uint16(h.keyLen))
	binary.LittleEndian.PutUint32(b[8:], uint32(h.metaLen))
	binary.LittleEndian.PutUint32(b[12:], uint32(h.bodyLen))
	binary.LittleEndian.PutUint64(b[16:], uint64(h.addr))
	binary.LittleEndian.PutUint64(b[24:], uint64(h.head))
	binary.LittleEndian.PutUint64(b[32:], uint64(h.size))
	binary.LittleEndian.PutUint64(b[40:], uint64(h.expires))
	binary.LittleEndian.PutUint32(b[48:], uint32(h.chunk))
	binary.LittleEndian.PutUint32(b[52:], h.dataCRC)
	binary.LittleEndian.PutUint32(b[56:], 0)
	binary.LittleEndian.PutUint32(b[60:], headerCRC(b, salt))
}

// decode parses and checks a record header. It fails on a wrong magic,
// version or CRC, and on lengths no writer produces.
func (h *recHeader) decode(b []byte, salt uint64) bool {
	if len(b) < recHeaderSize || binary.LittleEndian.Uint32(b) != recMagic || b[4] != formatVersion ||
		binary.LittleEndian.Uint32(b[60:]) != headerCRC(b, salt) {
		return false
	}
	*h = recHeader{
		flags:   b[5],
		keyLen:  int(binary.LittleEndian.Uint16(b[6:])),
		metaLen: int(binary.LittleEndian.Uint32(b[8:])),
		bodyLen: int(binary.LittleEndian.Uint32(b[12:])),
		addr:    int64(binary.LittleEndian.Uint64(b[16:])),
		head:    int64(binary.LittleEndian.Uint64(b[24:])),
		size:    int64(binary.LittleEndian.Uint64(b[32:])),
		expires: uint32(binary.LittleEndian.Uint64(b[40:])),
		chunk:   int64(binary.LittleEndian.Uint32(b[48:])),
		dataCRC: binary.LittleEndian.Uint32(b[52:]),
	}
	return h.metaLen <= MaxMeta && h.bodyLen <= ChunkSize && h.size >= 0 && h.addr >= 0
}

func headerCRC(b []byte, salt uint64) uint32 {
	var s [8]byte
	binary.LittleEndian.PutUint64(s[:], salt)
	return crc32.Update(crc32.Checksum(s[:], castagnoli), castagnoli, b[:60])
}

// segHeader is a decoded segment header.
type segHeader struct {
	segSize int64
	number  int64
	nseg    int64
	salt    uint64
}

func (h *segHeader) encode(b []byte) {
	clear(b[:64])
	binary.LittleEndian.PutUint32(b[0:], segMagic)
	binary.LittleEndian.PutUint32(b[4:], formatVersion)
	binary.LittleEndian.PutUint64(b[8:], uint64(h.segSize))
	binary.LittleEndian.PutUint64(b[16:], uint64(h.number))
	binary.LittleEndian.PutUint64(b[24:], uint64(h.nseg))
	binary.LittleEndian.PutUint64(b[32:], h.salt)
	binary.LittleEndian.PutUint32(b[60:], crc32.Checksum(b[:60], castagnoli))
}

func (h *segHeader) decode(b []byte) bool {
	if len(b) < 64 || binary.LittleEndian.Uint32(b) != segMagic || binary.LittleEndian.Uint32(b[4:]) != formatVersion ||
		binary.LittleEndian.Uint32(b[60:]) != crc32.Checksum(b[:60], castagnoli) {
		return false
	}
	h.segSize = int64(binary.LittleEndian.Uint64(b[8:]))
	h.number = int64(binary.LittleEndian.Uint64(b[16:]))
	h.nseg = int64(binary.LittleEndian.Uint64(b[24:]))
	h.salt = binary.LittleEndian.Uint64(b[32:])
	return true
}

// layout is the shape of one object's records: a head record with the key,
// the meta and up to ChunkSize bytes of body, then one chunk record per
// further ChunkSize bytes.
type layout struct {
	keyLen, metaLen int
	size            int64
}

// chunks is the number of records, at least one.
func (l layout) chunks() int64 {
	if l.size <= ChunkSize {
		return 1
	}
	return (l.size + ChunkSize - 1) / ChunkSize
}

// bodyLen is the body bytes in record i.
func (l layout) bodyLen(i int64) int { return int(min(ChunkSize, l.size-i*ChunkSize)) }

// recLen is the space record i takes.
func (l layout) recLen(i int64) int64 {
	if i == 0 {
		return recordSize(l.keyLen, l.metaLen, l.bodyLen(0))
	}
	return recordSize(0, 0, l.bodyLen(i))
}

// geometry maps logical addresses onto the ring. Logical addresses grow
// forever; segment n of the log lives in file n mod nseg.
type geometry struct {
	segSize int64
	nseg    int64
}

// place returns the address of a record of n bytes written when the log's
// next free address is p: p itself, or the start of the next segment's data
// when the record would cross the end of p's segment.
func (g geometry) place(p, n int64) int64 {
	off := p % g.segSize
	if off < segHeaderSize {
		return p - off + segHeaderSize
	}
	if off+n > g.segSize {
		return p - off + g.segSize + segHeaderSize
	}
	return p
}

// file returns the file number and offset of logical address a.
func (g geometry) file(a int64) (int, int64) {
	return int(a / g.segSize % g.nseg), a % g.segSize
}

// end returns the address after the last record of an object whose head
// record is at a.
func (g geometry) end(a int64, l layout) int64 {
	p := a + l.recLen(0)
	for i := int64(1); i < l.chunks(); i++ {
		n := l.recLen(i)
		p = g.place(p, n) + n
	}
	return p
}
