package cache

import (
	"bytes"
	"time"

	"edgeproxy/codec"
)

// Freshen applies a 304 received on revalidation to the stored response that
// req selects under key (RFC 9111 §4.3.4): the 304's fields replace the
// stored ones of the same names (except Content-Length, Age and the fields
// never stored, §3.2), its Date and Age and m's request and response times
// replace the stored ones, and the freshness lifetime is recomputed. The body
// is untouched, in either tier. It returns false when the entry is gone, when
// the 304's validators name another response (an ETag, or failing that a
// Last-Modified, that differs from the stored one), or when the updated
// header block no longer fits. A 304 without validators updates the stored
// response, which is the one whose validators the revalidation sent.
func (c *Cache) Freshen(key []byte, req *codec.Request, m *Meta) bool {
	objKey := c.objectKey(key, req)
	if objKey == nil {
		return false
	}
	c.clock.advance(time.Now().Unix())
	updated := false
	found := false
	written := 0
	_, _, _ = c.fc.Update(objKey, func(v []byte, ok bool) ([]byte, bool, int) {
		found = ok
		if !ok {
			return nil, false, 0
		}
		nv, replace := c.freshened(v, key, objKey, m, true)
		updated = replace
		written = len(nv)
		return nv, replace, 0
	})
	if found && updated {
		c.wroteSmall(len(objKey) + written)
	}
	if !found {
		updated = c.large.update(objKey, func(v []byte) ([]byte, bool) {
			return c.freshened(v, key, objKey, m, false)
		})
	}
	return updated
}

// freshened returns the object entry v updated by the 304 m, as Freshen
// describes, and whether it applies. small says v is a tier-S entry, which
// must still fit freecache with its body.
func (c *Cache) freshened(v, url, objKey []byte, m *Meta, small bool) ([]byte, bool) {
	var om meta
	if !decodeMeta(v, &om) {
		return nil, false
	}
	hdr := entryHeader(v, &om)
	if !sameValidators(hdr[om.etagOff:om.etagOff+om.etagLen], hdr[om.lmOff:om.lmOff+om.lmLen], m.Header) {
		return nil, false
	}
	t := responseTimes(m)
	merged := mergeFields(parseBlock(hdr, nil), m.Header, timeOf(t.response), nil)
	var d Directives
	headerDirectives(merged, &d)
	nm := om
	c.objectMeta(url, int(om.status), &d, merged, t, &nm)
	var k block
	for i := range merged {
		k.add(merged[i].Name, merged[i].Value)
	}
	nm.hdrLen = uint32(len(k.b))
	nm.etagOff, nm.etagLen, nm.lmOff, nm.lmLen = k.etagOff, k.etagLen, k.lmOff, k.lmLen
	size := metaSize + len(k.b)
	if om.largeID == 0 {
		size += int(om.size)
	}
	if small && len(objKey)+size > c.smallMax {
		return nil, false
	}
	value := make([]byte, 0, size)
	value = appendMeta(value, &nm)
	value = append(value, k.b...)
	if om.largeID == 0 {
		value = append(value, entryBody(v, &om)...)
	}
	return value, true
}

// objectKey returns the key of the object req selects under the URL key: the
// URL key itself, or the variant key when the URL holds a Vary record. It
// returns nil when nothing is stored, or when the URL varies and req is nil.
func (c *Cache) objectKey(key []byte, req *codec.Request) []byte {
	if len(key) == 0 || key[0] == 0 {
		return nil
	}
	var out []byte
	found := false
	_ = c.fc.PeekFn(key, func(v []byte) error {
		found = true
		if gen, names, ok := decodeVary(v); ok {
			if req != nil {
				out = appendVariantKey(nil, gen, names, req)
			}
		} else {
			out = append([]byte(nil), key...)
		}
		return nil
	})
	if !found {
		// Tier L holds the URL's object, or the Vary record of its
		// variants when freecache has lost it.
		if gen, names, ok := decodeVary(c.large.varyOf(key)); ok {
			if req != nil {
				out = appendVariantKey(nil, gen, names, req)
			}
		} else {
			out = append([]byte(nil), key...)
		}
	}
	return out
}

// sameValidators reports whether a 304's validators select the stored
// response with etag and lastMod (RFC 9111 §4.3.4): a strong ETag must equal
// the stored one, a weak one must match it weakly; without an ETag, a
// Last-Modified must equal the stored one.
func sameValidators(etag, lastMod []byte, fresh []codec.Header) bool {
	var newETag, newLM []byte
	for i := range fresh {
		switch {
		case newETag == nil && codec.EqualFold(fresh[i].Name, "etag"):
			newETag = fresh[i].Value
		case newLM == nil && codec.EqualFold(fresh[i].Name, "last-modified"):
			newLM = fresh[i].Value
		}
	}
	if newETag != nil {
		if len(newETag) > 0 && newETag[0] == 'W' {
			o := opaqueTag(newETag)
			return o != nil && bytes.Equal(o, opaqueTag(etag))
		}
		return len(etag) > 0 && bytes.Equal(newETag, etag)
	}
	if newLM != nil {
		return bytes.Equal(newLM, lastMod)
	}
	return true
}

// Invalidate removes everything stored for the URL key: its object or its
// Vary record, which makes every variant unreachable at once, and every
// tier-L body stored for it. It serves PURGE and the invalidation after
// unsafe methods (RFC 9111 §4.4), and reports whether anything was removed.
// Fills in flight are not stopped.
func (c *Cache) Invalidate(key []byte) bool {
	if len(key) == 0 || key[0] == 0 {
		return false
	}
	removed := c.fc.Del(key)
	if c.large.dropURL(key) > 0 {
		removed = true
	}
	return removed
}
