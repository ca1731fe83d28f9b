package cache

import (
	"bytes"

	"edgeproxy/codec"
)

// NotModified reports whether a client's conditional request can be answered
// with 304 from the stored response h (RFC 9110 §13.2.2, RFC 9111 §4.3.2).
// Only GET and HEAD are evaluated, and only against a 2xx response. If-None-Match
// takes precedence: with it present, the answer is whether any listed
// entity-tag matches the stored ETag under weak comparison ("*" matches any
// stored response). Otherwise a single valid If-Modified-Since, not in the
// future, is compared with the stored Last-Modified, or Date when there is
// none. It allocates nothing.
func NotModified(req *codec.Request, h *Hit) bool {
	if !(string(req.Method) == "GET" || string(req.Method) == "HEAD") || h.Status < 200 || h.Status > 299 {
		return false
	}
	inm := false
	var ims []byte
	nIMS := 0
	for i := range req.Headers {
		f := &req.Headers[i]
		switch {
		case codec.EqualFold(f.Name, "if-none-match"):
			inm = true
			if etagListMatch(f.Value, h.ETag) {
				return true
			}
		case codec.EqualFold(f.Name, "if-modified-since"):
			nIMS++
			ims = f.Value
		}
	}
	if inm || nIMS != 1 {
		return false
	}
	t, ok := codec.ParseHTTPDate(ims)
	if !ok || t.Unix() > h.now {
		return false
	}
	return h.modTime <= t.Unix()
}

// opaqueTag returns the opaque-tag of an entity-tag (RFC 9110 §8.8.3), the
// quoted part without any W/ prefix, or nil when etag is malformed.
func opaqueTag(etag []byte) []byte {
	if len(etag) >= 2 && etag[0] == 'W' && etag[1] == '/' {
		etag = etag[2:]
	}
	if len(etag) < 2 || etag[0] != '"' || etag[len(etag)-1] != '"' {
		return nil
	}
	return etag
}

// etagListMatch reports whether the If-None-Match list holds "*" or an
// entity-tag weakly equal to etag. Entity-tags may contain commas, so the
// list is scanned quote by quote rather than split on commas.
func etagListMatch(list, etag []byte) bool {
	want := opaqueTag(etag)
	i := 0
	for i < len(list) {
		switch c := list[i]; {
		case c == ' ' || c == '\t' || c == ',':
			i++
			continue
		case c == '*':
			return true
		}
		if list[i] == 'W' && i+1 < len(list) && list[i+1] == '/' {
			i += 2
		}
		if i >= len(list) || list[i] != '"' {
			for i < len(list) && list[i] != ',' {
				i++
			}
			continue
		}
		j := i + 1
		for j < len(list) && list[j] != '"' {
			j++
		}
		if j == len(list) {
			return false
		}
		if want != nil && bytes.Equal(list[i:j+1], want) {
			return true
		}
		i = j + 1
	}
	return false
}
