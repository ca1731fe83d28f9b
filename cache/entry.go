package cache

import "encoding/binary"

// Kinds of freecache value, the first byte of every value.
const (
	kindObject = 1 // a stored response: meta, header block, body (tier S) or none (tier L)
	kindVary   = 2 // a URL's Vary record: generation and Vary field names
)

// Object flags.
const (
	flagNoCache    = 1 << iota // response no-cache: revalidate before every use
	flagNoStale                // must-revalidate, proxy-revalidate or s-maxage: never serve stale
	flagPrefetched             // stored by a prefetch, not by a client's request
	flagImmutable              // an immutable refresh rule matched: a client's reload does not revalidate
)

// metaSize is the length of the fixed object metadata. Integers are little
// endian:
//
//	 0 u8  kind          1 u8  flags         2 u16 status
//	 4 u32 stale-while-revalidate (s)        8 u32 stale-if-error (s)
//	12 u32 header block length
//	16 i64 response_time (unix ns)
//	24 i64 corrected_initial_age (ns, RFC 9111 §4.2.3)
//	32 i64 freshness_lifetime (ns, §4.2.1)
//	40 i64 body size
//	48 u64 tier-L object id, 0 for a tier-S body
//	56 i64 modification time (unix s) for If-Modified-Since
//	64 u32 ETag value offset   68 u32 ETag length   (in the header block)
//	72 u32 Last-Modified offset 76 u32 Last-Modified length
//
// The header block and, for tier S, the body follow.
const metaSize = 80

// idOffset is where the tier-L object id sits in the fixed part.
const idOffset = 48

// varySize is the length of a Vary record before its names:
// kind, 7 bytes of padding, u64 generation.
const varySize = 16

// meta is the decoded fixed part of an object entry.
type meta struct {
	flags        uint8
	status       uint16
	swr, sie     uint32
	hdrLen       uint32
	responseTime int64
	initialAge   int64
	lifetime     int64
	size         int64
	largeID      uint64
	modTime      int64
	etagOff      uint32
	etagLen      uint32
	lmOff        uint32
	lmLen        uint32
}

// appendMeta appends the fixed part of an object entry.
func appendMeta(dst []byte, m *meta) []byte {
	le := binary.LittleEndian
	dst = append(dst, kindObject, m.flags)
	dst = le.AppendUint16(dst, m.status)
	dst = le.AppendUint32(dst, m.swr)
	dst = le.AppendUint32(dst, m.sie)
	dst = le.AppendUint32(dst, m.hdrLen)
	dst = le.AppendUint64(dst, uint64(m.responseTime))
	dst = le.AppendUint64(dst, uint64(m.initialAge))
	dst = le.AppendUint64(dst, uint64(m.lifetime))
	dst = le.AppendUint64(dst, uint64(m.size))
	dst = le.AppendUint64(dst, m.largeID)
	dst = le.AppendUint64(dst, uint64(m.modTime))
	dst = le.AppendUint32(dst, m.etagOff)
	dst = le.AppendUint32(dst, m.etagLen)
	dst = le.AppendUint32(dst, m.lmOff)
	return le.AppendUint32(dst, m.lmLen)
}

// decodeMeta reads the fixed part of an object entry and checks that the
// lengths it records agree with len(v).
func decodeMeta(v []byte, m *meta) bool {
	if len(v) < metaSize || v[0] != kindObject {
		return false
	}
	decodeFixed(v, m)
	want := int64(metaSize) + int64(m.hdrLen)
	if m.largeID == 0 {
		want += m.size
	}
	return int64(len(v)) == want &&
		uint64(m.etagOff)+uint64(m.etagLen) <= uint64(m.hdrLen) &&
		uint64(m.lmOff)+uint64(m.lmLen) <= uint64(m.hdrLen)
}

// decodeFixed reads the fields of the fixed part, v[:metaSize], whatever
// its kind byte.
func decodeFixed(v []byte, m *meta) {
	le := binary.LittleEndian
	m.flags = v[1]
	m.status = le.Uint16(v[2:])
	m.swr = le.Uint32(v[4:])
	m.sie = le.Uint32(v[8:])
	m.hdrLen = le.Uint32(v[12:])
	m.responseTime = int64(le.Uint64(v[16:]))
	m.initialAge = int64(le.Uint64(v[24:]))
	m.lifetime = int64(le.Uint64(v[32:]))
	m.size = int64(le.Uint64(v[40:]))
	m.largeID = le.Uint64(v[48:])
	m.modTime = int64(le.Uint64(v[56:]))
	m.etagOff = le.Uint32(v[64:])
	m.etagLen = le.Uint32(v[68:])
	m.lmOff = le.Uint32(v[72:])
	m.lmLen = le.Uint32(v[76:])
}

// entryHeader returns the header block of an object entry.
func entryHeader(v []byte, m *meta) []byte {
	return v[metaSize : metaSize+int(m.hdrLen) : metaSize+int(m.hdrLen)]
}

// entryBody returns the tier-S body of an object entry.
func entryBody(v []byte, m *meta) []byte {
	return v[metaSize+int(m.hdrLen):]
}

// appendVary appends a Vary record.
func appendVary(dst []byte, gen uint64, names []byte) []byte {
	dst = append(dst, kindVary, 0, 0, 0, 0, 0, 0, 0)
	dst = binary.LittleEndian.AppendUint64(dst, gen)
	return append(dst, names...)
}

// decodeVary reads a Vary record.
func decodeVary(v []byte) (gen uint64, names []byte, ok bool) {
	if len(v) < varySize || v[0] != kindVary {
		return 0, nil, false
	}
	return binary.LittleEndian.Uint64(v[8:]), v[varySize:], true
}
