package cache

import (
	"encoding/binary"

	"edgeproxy/codec"
)

// AppendKey appends the cache key of r to dst: the normalised target URI
// (RFC 9111 §2). Scheme and host are lower-cased, the default port (80 for
// http, 443 for https, 21 for ftp, 70 for gopher) is elided, and the path
// and query are kept byte for byte ("/" when empty): no percent-decoding, no
// dot-segment removal. The userinfo of an ftp:// target is not part of the
// key.
//
// An absolute-form request gives its own URI. An origin-form request is keyed
// as http://Host/path from its Host field, for the engine's use when it
// answers as a reverse proxy. Authority-form and asterisk-form requests have
// no key: dst is returned unchanged, and an empty key is never stored or
// found.
func AppendKey(dst []byte, r *codec.Request) []byte {
	var scheme, host, port []byte
	switch r.Form {
	case codec.FormAbsolute:
		scheme, host, port = r.Scheme, r.Host, r.Port
	case codec.FormOrigin:
		if len(r.HostHeader) == 0 {
			return dst
		}
		host, port = codec.SplitHostPort(r.HostHeader)
	default:
		return dst
	}
	start := len(dst)
	if len(scheme) == 0 {
		dst = append(dst, "http"...)
	} else {
		dst = codec.AppendLower(dst, scheme)
	}
	deflt := defaultPort(dst[start:])
	dst = append(dst, "://"...)
	dst = codec.AppendLower(dst, host)
	if len(port) > 0 && string(port) != deflt {
		dst = append(dst, ':')
		dst = append(dst, port...)
	}
	if len(r.Path) == 0 {
		return append(dst, '/')
	}
	return append(dst, r.Path...)
}

// defaultPort is the port a URL of the lower-case scheme reaches when it
// names none, so that the two spellings share a key.
func defaultPort(scheme []byte) string {
	switch string(scheme) {
	case "https":
		return "443"
	case "ftp":
		return "21"
	case "gopher":
		return "70"
	}
	return "80"
}

// A variant key is 0x00, the 8-byte generation of the URL's Vary record, then
// the secondary key. URL keys never start with 0x00, and a generation is never
// reused, so a variant key can belong to exactly one Vary record: deleting
// that record makes every variant it had unreachable at once.
const variantPrefix = 9

// appendVariantKey appends the variant key for gen and the request's values
// of the Vary names (see appendSecondary).
func appendVariantKey(dst []byte, gen uint64, names []byte, r *codec.Request) []byte {
	dst = append(dst, 0)
	dst = appendGen(dst, gen)
	return appendSecondary(dst, names, r)
}

// appendGen appends a Vary-record generation as it appears in variant keys.
func appendGen(dst []byte, gen uint64) []byte {
	return binary.LittleEndian.AppendUint64(dst, gen)
}

// appendSecondary appends the secondary key (RFC 9111 §4.1) of r for names,
// the comma-separated, lower-cased field names of a stored Vary. For each
// name in Vary order it appends the name, then ':' and the request's values
// of that field (each line trimmed, several lines joined by ','), or 0x01
// when the request lacks the field, then '\n'. An absent field therefore
// matches only an absent field, and field values, which cannot hold CR, LF
// or NUL, cannot forge a separator.
func appendSecondary(dst, names []byte, r *codec.Request) []byte {
	for len(names) > 0 {
		i := 0
		for i < len(names) && names[i] != ',' {
			i++
		}
		name := names[:i]
		if i < len(names) {
			i++
		}
		names = names[i:]
		dst = append(dst, name...)
		found := false
		for j := range r.Headers {
			h := &r.Headers[j]
			if !codec.EqualFoldBytes(h.Name, name) {
				continue
			}
			if found {
				dst = append(dst, ',')
			} else {
				dst = append(dst, ':')
				found = true
			}
			dst = append(dst, codec.TrimOWS(h.Value)...)
		}
		if !found {
			dst = append(dst, 1)
		}
		dst = append(dst, '\n')
	}
	return dst
}

// appendVaryNames appends the field names listed by the response's Vary lines,
// lower-cased and comma-separated, and reports whether any is "*".
func appendVaryNames(dst []byte, hdr []codec.Header) (names []byte, star bool) {
	start := len(dst)
	for i := range hdr {
		if !codec.EqualFold(hdr[i].Name, "vary") {
			continue
		}
		for m, rest := codec.NextListMember(hdr[i].Value); m != nil; m, rest = codec.NextListMember(rest) {
			if len(m) == 1 && m[0] == '*' {
				star = true
				continue
			}
			if len(dst) > start {
				dst = append(dst, ',')
			}
			dst = codec.AppendLower(dst, m)
		}
	}
	return dst, star
}
