package codec

import (
	"bytes"
	"math"
	"strconv"
)

// LastChunk ends a chunked body that has no trailer fields.
const LastChunk = "0\r\n\r\n"

// Bounds of the chunked framing. A chunk-size line is hex digits and
// extensions we discard, so 4 KiB is generous (net/http uses the same); the
// trailer section is discarded too, and 16 KiB keeps a client from making us
// scan without end.
const (
	maxChunkLine    = 4 << 10
	maxTrailerBytes = 16 << 10
	maxChunkDigits  = 16
)

// AppendChunkHeader appends the chunk-size line of a chunk of n bytes: n in
// hex and CRLF (RFC 9112 §7.1). n must be positive; a zero-size chunk is
// LastChunk.
func AppendChunkHeader(dst []byte, n int) []byte {
	dst = strconv.AppendUint(dst, uint64(n), 16)
	return append(dst, '\r', '\n')
}

// Decoder states.
const (
	chunkSize    = iota // expecting a chunk-size line
	chunkData           // inside chunk data
	chunkDataCR         // expecting the CR after chunk data
	chunkDataLF         // expecting the LF after chunk data
	chunkTrailer        // expecting a trailer line or the final CRLF
	chunkDone           // the body has ended
)

// ChunkedDecoder decodes a chunked body incrementally (RFC 9112 §7.1). It
// keeps no bytes, only its place in the framing, so a body may arrive in any
// split, one byte at a time included. The zero value is ready. A decoder is
// not safe for concurrent use.
type ChunkedDecoder struct {
	state   uint8
	left    int64 // data bytes left in the current chunk
	seen    int   // bytes of the current framing line already searched for LF
	trailer int   // bytes of trailer section consumed
}

// Reset prepares d for a new body.
func (d *ChunkedDecoder) Reset() {
	*d = ChunkedDecoder{}
}

// Decode consumes framing and data from b. It returns the number of bytes
// consumed, the body bytes found (a view into b, possibly empty), and
// done=true once the last chunk and the trailer section have been consumed;
// bytes after them belong to the next message. Trailer fields are checked
// like header fields and discarded.
//
// One call returns the data of at most one chunk, with the framing around it.
// Call again with the unconsumed rest, b[n:], plus any new data, until done.
// ErrNeedMore is never returned: an incomplete framing line consumes nothing
// (n is 0 and data empty) and the caller must supply more; the decoder
// remembers how much of that line it has searched. Errors are ErrChunk and
// ErrChunkTooLarge and end the body; data found before bad framing is
// returned first, without error, and the error comes on the next call.
func (d *ChunkedDecoder) Decode(b []byte) (n int, data []byte, done bool, err error) {
	for {
		var used int
		switch d.state {
		case chunkDone:
			return n, data, true, nil
		case chunkData:
			if len(data) > 0 {
				return n, data, false, nil
			}
			k := int(min(d.left, int64(len(b)-n)))
			data = b[n : n+k]
			d.left -= int64(k)
			if d.left == 0 {
				d.state = chunkDataCR
			}
			used = k
		case chunkDataCR, chunkDataLF:
			if n < len(b) {
				want, next := byte('\r'), uint8(chunkDataLF)
				if d.state == chunkDataLF {
					want, next = '\n', chunkSize
				}
				if b[n] != want {
					// RFC 9112 §7.1: chunk data is followed by CRLF.
					err = ErrChunk
					break
				}
				d.state = next
				used = 1
			}
		case chunkSize:
			used, err = d.sizeLine(b[n:])
		case chunkTrailer:
			used, err = d.trailerLine(b[n:])
		}
		if err != nil {
			if len(data) > 0 {
				return n, data, false, nil
			}
			return n, nil, false, err
		}
		if used == 0 {
			return n, data, d.state == chunkDone, nil
		}
		n += used
	}
}

// line finds the CRLF-terminated line at the start of b, searching only
// beyond what earlier calls searched and no further than limit bytes. It
// returns the line without CRLF and the bytes it takes, or 0 if the line
// is incomplete.
func (d *ChunkedDecoder) line(b []byte, limit int) (line []byte, used int, err error) {
	end := min(len(b), limit)
	i := -1
	if d.seen < end {
		i = bytes.IndexByte(b[d.seen:end], '\n')
	}
	if i < 0 {
		if len(b) >= limit {
			return nil, 0, ErrChunkTooLarge
		}
		d.seen = max(d.seen, end)
		return nil, 0, nil
	}
	lf := d.seen + i
	// RFC 9112 §7.1 knows CRLF only; erratum 7633 rejects a bare LF here.
	if lf == 0 || b[lf-1] != '\r' {
		return nil, 0, ErrChunk
	}
	d.seen = 0
	return b[:lf-1], lf + 1, nil
}

// sizeLine consumes chunk-size [chunk-ext] CRLF.
func (d *ChunkedDecoder) sizeLine(b []byte) (int, error) {
	line, used, err := d.line(b, maxChunkLine)
	if err != nil || used == 0 {
		return 0, err
	}
	var size int64
	i := 0
	for ; i < len(line); i++ {
		v := HexValue(line[i])
		if v < 0 {
			break
		}
		if i == maxChunkDigits || size > (math.MaxInt64-int64(v))>>4 {
			return 0, ErrChunk
		}
		size = size<<4 | int64(v)
	}
	if i == 0 || !chunkExt(line[i:]) {
		return 0, ErrChunk
	}
	if size == 0 {
		d.state = chunkTrailer
	} else {
		d.state, d.left = chunkData, size
	}
	return used, nil
}

// chunkExt reports whether ext is a plausible chunk-ext:
// *( BWS ";" BWS name [ BWS "=" BWS value ] ) (RFC 9112 §7.1.1). Extensions
// are discarded, so it checks only that ext starts with BWS ";" and holds
// field-value bytes: no CR, no NUL, no other control. Whitespace after the
// size with no extension ("5 ") is refused.
func chunkExt(ext []byte) bool {
	if len(ext) == 0 {
		return true
	}
	i := 0
	for i < len(ext) && (ext[i] == ' ' || ext[i] == '\t') {
		i++
	}
	if i == len(ext) || ext[i] != ';' {
		return false
	}
	for _, c := range ext {
		if !fieldValue[c] {
			return false
		}
	}
	return true
}

// HexValue returns the value of hex digit c, or -1.
func HexValue(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// trailerLine consumes one line of the trailer section (RFC 9112 §7.1.2):
// a field line, checked and dropped, or the empty line that ends the body.
func (d *ChunkedDecoder) trailerLine(b []byte) (int, error) {
	line, used, err := d.line(b, maxTrailerBytes-d.trailer)
	if err != nil || used == 0 {
		return 0, err
	}
	if len(line) == 0 {
		d.state = chunkDone
		return used, nil
	}
	if _, _, err := splitField(line); err != nil {
		return 0, ErrChunk
	}
	d.trailer += used
	return used, nil
}
