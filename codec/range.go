package codec

import (
	"bytes"
	"math"
	"strconv"
)

// MaxRanges bounds the range-specs of one Range field. RFC 9110 §14.2 lets a
// server ignore a Range with many or overlapping ranges, which can otherwise
// make a small request cost a large response; ParseRange returns ErrRange for
// more, so the whole representation is sent instead.
const MaxRanges = 16

// ByteRange is a satisfiable byte range: the offsets of its first and last
// bytes, both included (RFC 9110 §14.1.2).
type ByteRange struct {
	Start, End int64
}

// Len returns the number of bytes in r.
func (r ByteRange) Len() int64 { return r.End - r.Start + 1 }

// ParseRange parses a Range field value (RFC 9110 §14.2) for a representation
// of size bytes (size >= 0) and appends its satisfiable ranges to dst[:0], in
// the order asked, each clipped to the representation.
//
// It returns ErrRange when the header must be ignored and the whole
// representation served: a unit other than bytes (compared
// case-insensitively, RFC 9110 §14.1), bad syntax, last-pos before first-pos
// (RFC 9110 §14.1.1), more than MaxRanges ranges, or ranges whose total
// exceeds size, which only overlap can cause. It returns
// ErrRangeNotSatisfiable (416) when no range overlaps the representation:
// every first-pos is at or past size, or a suffix is zero, or size is zero.
// It does not allocate when dst has room for the ranges.
func ParseRange(v []byte, size int64, dst []ByteRange) ([]ByteRange, error) {
	dst = dst[:0]
	v = TrimOWS(v)
	eq := bytes.IndexByte(v, '=')
	if eq < 0 || !EqualFold(v[:eq], "bytes") {
		return dst, ErrRange
	}
	specs := 0
	var total int64
	for m, rest := NextListMember(v[eq+1:]); m != nil; m, rest = NextListMember(rest) {
		specs++
		if specs > MaxRanges {
			return dst[:0], ErrRange
		}
		dash := bytes.IndexByte(m, '-')
		if dash < 0 {
			return dst[:0], ErrRange
		}
		var r ByteRange
		if dash == 0 {
			n, ok := parsePos(m[1:])
			if !ok {
				return dst[:0], ErrRange
			}
			if n == 0 || size == 0 {
				continue
			}
			r = ByteRange{Start: max(size-n, 0), End: size - 1}
		} else {
			first, ok := parsePos(m[:dash])
			if !ok {
				return dst[:0], ErrRange
			}
			last := int64(math.MaxInt64)
			if dash+1 < len(m) {
				if last, ok = parsePos(m[dash+1:]); !ok || last < first {
					return dst[:0], ErrRange
				}
			}
			if first >= size {
				continue
			}
			r = ByteRange{Start: first, End: min(last, size-1)}
		}
		total += r.Len()
		if total > size {
			return dst[:0], ErrRange
		}
		dst = append(dst, r)
	}
	if specs == 0 {
		return dst, ErrRange
	}
	if len(dst) == 0 {
		return dst, ErrRangeNotSatisfiable
	}
	return dst, nil
}

// parsePos parses 1*DIGIT, saturating at math.MaxInt64: a position past
// any size is valid syntax and merely unsatisfiable.
func parsePos(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			n = math.MaxInt64
		} else {
			n = n*10 + d
		}
	}
	return n, true
}

// AppendContentRange appends the field line
// "Content-Range: bytes Start-End/size" CRLF (RFC 9110 §14.4) for a 206
// response or a part of a multipart/byteranges body.
func AppendContentRange(dst []byte, r ByteRange, size int64) []byte {
	dst = append(dst, "Content-Range: bytes "...)
	dst = strconv.AppendInt(dst, r.Start, 10)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, r.End, 10)
	dst = append(dst, '/')
	dst = strconv.AppendInt(dst, size, 10)
	return append(dst, '\r', '\n')
}

// AppendContentRangeUnsatisfied appends "Content-Range: bytes */size" CRLF,
// which a 416 response carries (RFC 9110 §14.4).
func AppendContentRangeUnsatisfied(dst []byte, size int64) []byte {
	dst = append(dst, "Content-Range: bytes */"...)
	dst = strconv.AppendInt(dst, size, 10)
	return append(dst, '\r', '\n')
}
