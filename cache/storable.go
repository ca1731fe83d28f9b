package cache

import (
	"time"

	"edgeproxy/codec"
)

// Meta is what the engine knows about an origin response it may store. Its
// slices are views the engine owns; the cache copies what it keeps before
// returning.
type Meta struct {
	Status int
	// Header holds the response's end-to-end fields as received. The stored
	// header block keeps them all but Age, Content-Length, hop-by-hop fields
	// and Proxy-Authenticate/-Authorization/-Authentication-Info (RFC 9111
	// §3.1), and gains a Date when the response had none (RFC 9110 §6.6.1).
	Header []codec.Header
	// RequestTime is when the request was sent upstream (request_time,
	// RFC 9111 §4.2.3); zero means ResponseTime.
	RequestTime time.Time
	// ResponseTime is when the response head arrived (response_time); zero
	// means now.
	ResponseTime time.Time
	// ContentLength is the declared body length, or -1 when unknown.
	ContentLength int64
	// Prefetch marks a response fetched by a prefetch, not for a client: it
	// goes through admission like any other, and its hits report
	// Hit.Prefetched until a client's own fetch or revalidation replaces
	// it (Hit.ClaimPrefetch tells the first one served apart).
	Prefetch bool
}

// Storable reports whether a response to req may be stored (RFC 9111 §3):
//
//   - the request method is GET (a HEAD is answered from a stored GET, and a
//     HEAD response is never stored);
//   - the status is final and neither 206 nor 304;
//   - neither request nor response has no-store, except that must-understand
//     overrides a response no-store for a status this cache understands
//     (§5.2.2.3), and must-understand with any other status refuses;
//   - the response has no private, qualified or not (a cache is never obliged
//     to store, and this one does not strip the named fields);
//   - a request with Authorization gets a response with public, s-maxage or
//     must-revalidate (§3.5);
//   - Vary is not "*" (§4.1: it could never be matched);
//   - a known Content-Length is at most MaxObject;
//   - the response has max-age, s-maxage, Expires or public, or a
//     heuristically cacheable status (RFC 9110 §15.1).
//
// A request's no-store only stops storing: a stored response may still be
// used to answer it, since §5.2.1.5 forbids storing, not reuse.
func (c *Cache) Storable(req *codec.Request, m *Meta) bool {
	if string(req.Method) != "GET" {
		return false
	}
	if m.Status < 200 || m.Status > 599 || m.Status == 206 || m.Status == 304 {
		return false
	}
	if m.ContentLength > c.maxObject {
		return false
	}
	var rd, d Directives
	requestDirectives(req, &rd)
	headerDirectives(m.Header, &d)
	if rd.Has(CCNoStore) {
		return false
	}
	if d.Has(CCMustUnderstand) {
		if !understoodStatus(m.Status) {
			return false
		}
	} else if d.Has(CCNoStore) {
		return false
	}
	if d.Has(CCPrivate) {
		return false
	}
	if req.Header("authorization") != nil && d.Flags&(CCPublic|CCSMaxAge|CCMustRevalidate) == 0 {
		return false
	}
	explicit := d.Flags&(CCMaxAge|CCSMaxAge|CCPublic) != 0
	for i := range m.Header {
		h := &m.Header[i]
		switch {
		case codec.EqualFold(h.Name, "vary"):
			for v, rest := codec.NextListMember(h.Value); v != nil; v, rest = codec.NextListMember(rest) {
				if len(v) == 1 && v[0] == '*' {
					return false
				}
			}
		case codec.EqualFold(h.Name, "expires"):
			explicit = true
		}
	}
	return explicit || heuristicStatus(m.Status)
}
