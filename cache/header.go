package cache

import (
	"time"

	"edgeproxy/codec"
)

// notStored reports whether a response field is left out of the stored header
// block (RFC 9111 §3.1) and is not taken from a 304 when freshening (§3.2).
func notStored(name []byte, hdr []codec.Header) bool {
	switch len(name) {
	case 2:
		return codec.EqualFold(name, "te")
	case 3:
		return codec.EqualFold(name, "age") // recomputed on every hit (§5.1)
	case 7:
		return codec.EqualFold(name, "trailer") || codec.EqualFold(name, "upgrade")
	case 10:
		if codec.EqualFold(name, "connection") || codec.EqualFold(name, "keep-alive") {
			return true
		}
	case 14:
		// The engine writes Content-Length from Hit.Size, so that a body
		// stored without one, a HEAD and a range all get the right value.
		if codec.EqualFold(name, "content-length") {
			return true
		}
	case 16:
		if codec.EqualFold(name, "proxy-connection") {
			return true
		}
	case 17:
		if codec.EqualFold(name, "transfer-encoding") {
			return true
		}
	case 18:
		if codec.EqualFold(name, "proxy-authenticate") {
			return true
		}
	case 19:
		if codec.EqualFold(name, "proxy-authorization") {
			return true
		}
	case 25:
		if codec.EqualFold(name, "proxy-authentication-info") {
			return true
		}
	}
	// Fields the Connection field names are hop-by-hop too (RFC 9110 §7.6.1);
	// the engine has removed them already, this is a second line of defence.
	for i := range hdr {
		if codec.EqualFold(hdr[i].Name, "connection") {
			for m, rest := codec.NextListMember(hdr[i].Value); m != nil; m, rest = codec.NextListMember(rest) {
				if codec.EqualFoldBytes(m, name) {
					return true
				}
			}
		}
	}
	return false
}

// block is a stored header block under construction, with where its ETag and
// Last-Modified values sit.
type block struct {
	b                []byte
	etagOff, etagLen uint32
	lmOff, lmLen     uint32
	hasDate          bool
}

// add appends one field line, noting validators and Date.
func (k *block) add(name, value []byte) {
	k.b = append(k.b, name...)
	k.b = append(k.b, ':', ' ')
	off := uint32(len(k.b))
	k.b = append(k.b, value...)
	k.b = append(k.b, '\r', '\n')
	switch {
	case k.etagLen == 0 && codec.EqualFold(name, "etag"):
		k.etagOff, k.etagLen = off, uint32(len(value))
	case k.lmLen == 0 && codec.EqualFold(name, "last-modified"):
		k.lmOff, k.lmLen = off, uint32(len(value))
	case codec.EqualFold(name, "date"):
		k.hasDate = true
	}
}

// addDate appends a Date field for a response that arrived without one: a
// cache must add it (RFC 9110 §6.6.1), with the time the response arrived.
func (k *block) addDate(responseTime time.Time) {
	var buf [len(codec.TimeFormat)]byte
	k.add([]byte("Date"), codec.AppendHTTPDate(buf[:0], responseTime))
}

// buildBlock builds the stored header block of a response.
func buildBlock(hdr []codec.Header, responseTime time.Time) block {
	var k block
	for i := range hdr {
		if !notStored(hdr[i].Name, hdr) {
			k.add(hdr[i].Name, hdr[i].Value)
		}
	}
	if !k.hasDate {
		k.addDate(responseTime)
	}
	return k
}

// nextLine splits the first field line off a stored header block.
func nextLine(b []byte) (name, value, rest []byte) {
	i := 0
	for i < len(b) && b[i] != ':' {
		i++
	}
	name = b[:i]
	j := i + 2
	if j > len(b) {
		return name, nil, nil
	}
	k := j
	for k < len(b) && b[k] != '\r' {
		k++
	}
	value = b[j:k]
	if k+2 <= len(b) {
		return name, value, b[k+2:]
	}
	return name, value, nil
}

// parseBlock returns the field lines of a stored header block as views.
func parseBlock(b []byte, dst []codec.Header) []codec.Header {
	for len(b) > 0 {
		var name, value []byte
		name, value, b = nextLine(b)
		dst = append(dst, codec.Header{Name: name, Value: value})
	}
	return dst
}

// mergeFields returns the fields of a stored response updated by those of a
// 304 (RFC 9111 §3.2): each field the 304 carries replaces every stored line
// of that name, except the fields that are never stored. The 304's Date, or
// the time it arrived when it has none, replaces the stored Date.
func mergeFields(stored, fresh []codec.Header, responseTime time.Time, dateBuf []byte) []codec.Header {
	hasDate := false
	for i := range fresh {
		if codec.EqualFold(fresh[i].Name, "date") {
			hasDate = true
		}
	}
	out := make([]codec.Header, 0, len(stored)+len(fresh)+1)
	for i := range stored {
		replaced := !hasDate && codec.EqualFold(stored[i].Name, "date")
		for j := range fresh {
			if codec.EqualFoldBytes(stored[i].Name, fresh[j].Name) && !notStored(fresh[j].Name, fresh) {
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, stored[i])
		}
	}
	for j := range fresh {
		if !notStored(fresh[j].Name, fresh) {
			out = append(out, fresh[j])
		}
	}
	if !hasDate {
		out = append(out, codec.Header{Name: []byte("Date"), Value: codec.AppendHTTPDate(dateBuf, responseTime)})
	}
	return out
}
