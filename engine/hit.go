package engine

import (
	"bytes"
	"strconv"

	"edgeproxy/cache"
	"edgeproxy/codec"
)

// hitPlan is how a stored response answers one request: in full, as one or
// several byte ranges (RFC 9110 §14), as 304 to a conditional request
// (RFC 9110 §13.2.2), or as 416.
type hitPlan struct {
	status int
	ranges []codec.ByteRange
	noBody bool  // HEAD, 304, 416
	length int64 // Content-Length of what is sent
}

// boundary separates the parts of a multipart/byteranges answer.
const boundary = "EDGEPROXY_BYTERANGES"

// planHit decides how h answers r. ranges is scratch for the parsed ranges.
func planHit(r *codec.Request, h *cache.Hit, ranges []codec.ByteRange) hitPlan {
	head := string(r.Method) == "HEAD"
	if cache.NotModified(r, h) {
		return hitPlan{status: 304, noBody: true}
	}
	p := hitPlan{status: h.Status, noBody: head, length: h.Size}
	if h.Status != 200 || head {
		return p
	}
	rv := r.Header("Range")
	if rv == nil || !ifRangeMatches(r.Header("If-Range"), h) {
		return p
	}
	rs, err := codec.ParseRange(rv, h.Size, ranges[:0])
	switch {
	case err == codec.ErrRangeNotSatisfiable:
		return hitPlan{status: 416, noBody: true}
	case err != nil || len(rs) == 0:
		return p // a malformed Range is ignored (RFC 9110 §14.2)
	}
	p.status, p.ranges = 206, rs
	if len(rs) == 1 {
		p.length = rs[0].Len()
	}
	return p
}

// ifRangeMatches applies If-Range (RFC 9110 §13.1.5): the range is served
// only when the validator is a strong ETag equal to the stored one, or a
// date equal to the stored Last-Modified.
func ifRangeMatches(v []byte, h *cache.Hit) bool {
	if v == nil {
		return true
	}
	v = codec.TrimOWS(v)
	switch {
	case len(v) > 0 && v[0] == '"':
		return string(v) == string(h.ETag)
	case len(v) > 1 && v[0] == 'W' && v[1] == '/':
		return false // a weak entity-tag never matches (RFC 9110 §13.1.5)
	}
	// Anything else is an HTTP-date, including "Wed, …": only the two bytes
	// W/ mark a weak entity-tag.
	t, ok := codec.ParseHTTPDate(v)
	lm, ok2 := codec.ParseHTTPDate(h.LastModified)
	return ok && ok2 && t.Equal(lm)
}

// appendHitHead serialises the head of a cached answer: the stored fields,
// Age (RFC 9111 §4.2.3, §5.1), the framing of the plan, and the cache's own
// reporting: X-Cache as Squid writes it and Cache-Status (RFC 9211).
//
// fwd, when not empty, is the Cache-Status fwd parameter of an answer that
// needed the origin (a revalidation, a stale answer to an error): the
// stored response is served, but it was forwarded, not hit (RFC 9211 §2).
func appendHitHead(dst []byte, h *cache.Hit, p *hitPlan, name string, multipartLen int64, close bool, fwd string) []byte {
	dst = codec.AppendStatusLine(dst, p.status)
	multipart := len(p.ranges) > 1
	if multipart {
		dst = appendWithout(dst, h.Header, "Content-Type")
	} else {
		dst = append(dst, h.Header...)
	}
	dst = codec.AppendHeaderInt(dst, "Age", int64(h.Age.Seconds()))
	switch {
	case p.status == 304:
	case p.status == 416:
		dst = codec.AppendContentRangeUnsatisfied(dst, h.Size)
		dst = codec.AppendHeaderString(dst, "Content-Length", "0")
	case multipart:
		dst = codec.AppendHeaderString(dst, "Content-Type", "multipart/byteranges; boundary="+boundary)
		dst = codec.AppendHeaderInt(dst, "Content-Length", multipartLen)
	case len(p.ranges) == 1:
		dst = codec.AppendContentRange(dst, p.ranges[0], h.Size)
		dst = codec.AppendHeaderInt(dst, "Content-Length", p.length)
	default:
		dst = codec.AppendHeaderInt(dst, "Content-Length", h.Size)
	}
	dst = append(dst, "X-Cache: HIT from "...)
	dst = append(dst, name...)
	dst = append(dst, "\r\nCache-Status: "...)
	dst = append(dst, name...)
	if fwd != "" {
		dst = append(dst, "; "...)
		dst = append(dst, fwd...)
	} else {
		dst = append(dst, "; hit"...)
	}
	dst = append(dst, "; ttl="...)
	dst = strconv.AppendInt(dst, int64(h.TTL.Seconds()), 10)
	dst = append(dst, "\r\nVia: 1.1 "...)
	dst = append(dst, name...)
	dst = append(dst, "\r\n"...)
	dst = appendConnection(dst, close)
	return append(dst, "\r\n"...)
}

// nextLine splits the first field line ("Name: value\r\n") off a stored
// header block.
func nextLine(block []byte) (line, rest []byte) {
	end := bytes.IndexByte(block, '\n') + 1
	if end == 0 {
		end = len(block)
	}
	return block[:end], block[end:]
}

// isField reports whether line is a field line named name.
func isField(line []byte, name string) bool {
	return len(line) > len(name) && line[len(name)] == ':' && codec.EqualFold(line[:len(name)], name)
}

// appendWithout appends the field lines of block except those named name.
func appendWithout(dst, block []byte, name string) []byte {
	for line, rest := nextLine(block); len(line) > 0; line, rest = nextLine(rest) {
		if !isField(line, name) {
			dst = append(dst, line...)
		}
	}
	return dst
}

// fieldValue finds the value of the field name in a stored header block.
func fieldValue(block []byte, name string) []byte {
	for line, rest := nextLine(block); len(line) > 0; line, rest = nextLine(rest) {
		if isField(line, name) {
			return codec.TrimOWS(bytes.TrimSuffix(bytes.TrimSuffix(line[len(name)+1:], []byte("\n")), []byte("\r")))
		}
	}
	return nil
}

// appendPartHeader appends the delimiter and headers of one part of a
// multipart/byteranges body (RFC 9110 §14.6).
func appendPartHeader(dst []byte, first bool, ctype []byte, r codec.ByteRange, size int64) []byte {
	if !first {
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "--"+boundary+"\r\n"...)
	if ctype != nil {
		dst = append(dst, "Content-Type: "...)
		dst = append(dst, ctype...)
		dst = append(dst, "\r\n"...)
	}
	dst = codec.AppendContentRange(dst, r, size)
	return append(dst, "\r\n"...)
}

// multipartEnd closes a multipart/byteranges body.
const multipartEnd = "\r\n--" + boundary + "--\r\n"

// multipartLength is the body length of a multipart answer with plan p.
func multipartLength(p *hitPlan, ctype []byte, size int64, scratch []byte) int64 {
	var n int64
	for i, r := range p.ranges {
		scratch = appendPartHeader(scratch[:0], i == 0, ctype, r, size)
		n += int64(len(scratch)) + r.Len()
	}
	return n + int64(len(multipartEnd))
}
