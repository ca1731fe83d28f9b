package cache

import "edgeproxy/codec"

// Flag is one Cache-Control directive (RFC 9111 §5.2) in a Directives set.
type Flag uint32

// The directives this cache acts on. Request and response directives share
// one set; each is meaningful only on the side the RFC defines it for.
const (
	CCNoCache              Flag = 1 << iota // §5.2.1.4, §5.2.2.4 (a qualified no-cache="f" counts as unqualified)
	CCNoStore                               // §5.2.1.5, §5.2.2.5
	CCPrivate                               // §5.2.2.7 (qualified or not)
	CCPublic                                // §5.2.2.9
	CCMustRevalidate                        // §5.2.2.2
	CCProxyRevalidate                       // §5.2.2.8
	CCMustUnderstand                        // §5.2.2.3
	CCNoTransform                           // §5.2.1.6, §5.2.2.6
	CCOnlyIfCached                          // §5.2.1.7
	CCMaxAge                                // §5.2.1.1, §5.2.2.1: Directives.MaxAge is set
	CCSMaxAge                               // §5.2.2.10: Directives.SMaxAge is set
	CCMaxStale                              // §5.2.1.2 with a value: Directives.MaxStale is set
	CCMaxStaleAny                           // §5.2.1.2 without a value: any staleness is accepted
	CCMinFresh                              // §5.2.1.3: Directives.MinFresh is set
	CCStaleWhileRevalidate                  // RFC 5861 §3
	CCStaleIfError                          // RFC 5861 §4
)

// maxDelta is the value a delta-seconds that overflows is taken as
// (RFC 9111 §1.2.2: 2^31).
const maxDelta = 1 << 31

// Directives is the parsed content of every Cache-Control field line of one
// message. The zero value is an empty set. Values are in seconds and valid
// only when the matching flag is set.
type Directives struct {
	Flags                Flag
	MaxAge               uint32
	SMaxAge              uint32
	MaxStale             uint32
	MinFresh             uint32
	StaleWhileRevalidate uint32
	StaleIfError         uint32
}

// Has reports whether every directive in f is present.
func (d *Directives) Has(f Flag) bool { return d.Flags&f == f }

// ParseCacheControl adds the directives of one Cache-Control field value to d;
// call it once per field line. It allocates nothing and keeps no reference to
// v.
//
// Names compare case-insensitively; arguments may be tokens or quoted strings
// (max-age="60" is accepted, §5.2); unknown extensions are ignored. A
// delta-seconds that overflows is capped at 2^31 (§1.2.2). A malformed
// argument, or a freshness directive repeated with a different value, is
// resolved toward the most restrictive reading (§4.2.1): max-age and s-maxage
// become 0 (stale), max-stale, stale-while-revalidate and stale-if-error keep
// the smaller value, min-fresh the larger.
func ParseCacheControl(v []byte, d *Directives) {
	for len(v) > 0 {
		var name, arg []byte
		var hasArg bool
		name, arg, hasArg, v = nextDirective(v)
		if len(name) == 0 {
			continue
		}
		d.apply(name, arg, hasArg)
	}
}

// nextDirective splits the first directive off a Cache-Control value. A
// quoted argument is returned without its quotes; its escapes are left as
// sent, since no directive this cache reads a number from contains any.
func nextDirective(v []byte) (name, arg []byte, hasArg bool, rest []byte) {
	i := 0
	for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == ',') {
		i++
	}
	start := i
	for i < len(v) && v[i] != '=' && v[i] != ',' && v[i] != ' ' && v[i] != '\t' {
		i++
	}
	name = v[start:i]
	for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
		i++
	}
	if i < len(v) && v[i] == '=' {
		hasArg = true
		i++
		for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
			i++
		}
		if i < len(v) && v[i] == '"' {
			i++
			a := i
			for i < len(v) && v[i] != '"' {
				if v[i] == '\\' && i+1 < len(v) {
					i++
				}
				i++
			}
			arg = v[a:i]
			if i < len(v) {
				i++
			}
		} else {
			a := i
			for i < len(v) && v[i] != ',' && v[i] != ' ' && v[i] != '\t' {
				i++
			}
			arg = v[a:i]
		}
	}
	// Skip whatever follows up to the next comma: junk after a directive
	// does not spill into the next one.
	for i < len(v) && v[i] != ',' {
		i++
	}
	return name, arg, hasArg, v[i:]
}

// apply records one directive.
func (d *Directives) apply(name, arg []byte, hasArg bool) {
	switch len(name) {
	case 6:
		if codec.EqualFold(name, "public") {
			d.Flags |= CCPublic
		}
	case 7:
		switch {
		case codec.EqualFold(name, "max-age"):
			d.strictDelta(CCMaxAge, &d.MaxAge, arg, hasArg)
		case codec.EqualFold(name, "private"):
			d.Flags |= CCPrivate
		}
	case 8:
		switch {
		case codec.EqualFold(name, "no-cache"):
			d.Flags |= CCNoCache
		case codec.EqualFold(name, "no-store"):
			d.Flags |= CCNoStore
		case codec.EqualFold(name, "s-maxage"):
			d.strictDelta(CCSMaxAge, &d.SMaxAge, arg, hasArg)
		}
	case 9:
		switch {
		case codec.EqualFold(name, "max-stale"):
			if !hasArg {
				d.Flags |= CCMaxStaleAny
			} else if n, ok := delta(arg); ok {
				d.lowest(CCMaxStale, &d.MaxStale, n)
			}
		case codec.EqualFold(name, "min-fresh"):
			if n, ok := delta(arg); ok && hasArg {
				if d.Flags&CCMinFresh == 0 || n > d.MinFresh {
					d.MinFresh = n
				}
				d.Flags |= CCMinFresh
			}
		}
	case 12:
		if codec.EqualFold(name, "no-transform") {
			d.Flags |= CCNoTransform
		}
	case 14:
		if codec.EqualFold(name, "only-if-cached") {
			d.Flags |= CCOnlyIfCached
		} else if codec.EqualFold(name, "stale-if-error") {
			if n, ok := delta(arg); ok && hasArg {
				d.lowest(CCStaleIfError, &d.StaleIfError, n)
			}
		}
	case 15:
		if codec.EqualFold(name, "must-revalidate") {
			d.Flags |= CCMustRevalidate
		} else if codec.EqualFold(name, "must-understand") {
			d.Flags |= CCMustUnderstand
		}
	case 16:
		if codec.EqualFold(name, "proxy-revalidate") {
			d.Flags |= CCProxyRevalidate
		}
	case 22:
		if codec.EqualFold(name, "stale-while-revalidate") {
			if n, ok := delta(arg); ok && hasArg {
				d.lowest(CCStaleWhileRevalidate, &d.StaleWhileRevalidate, n)
			}
		}
	}
}

// strictDelta records a freshness lifetime directive (max-age, s-maxage). A
// missing or malformed argument, or a repeat with a different value, makes it
// 0: the response is then treated as stale (§4.2.1).
func (d *Directives) strictDelta(f Flag, dst *uint32, arg []byte, hasArg bool) {
	n, ok := delta(arg)
	if !ok || !hasArg || (d.Flags&f != 0 && *dst != n) {
		n = 0
	}
	*dst = n
	d.Flags |= f
}

// lowest records n for f, keeping the smaller value when f repeats.
func (d *Directives) lowest(f Flag, dst *uint32, n uint32) {
	if d.Flags&f == 0 || n < *dst {
		*dst = n
	}
	d.Flags |= f
}

// delta parses delta-seconds (§1.2.2): one or more digits, capped at 2^31.
func delta(b []byte) (uint32, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < maxDelta {
			n = n*10 + uint64(c-'0')
		}
	}
	if n > maxDelta {
		n = maxDelta
	}
	return uint32(n), true
}

// requestDirectives parses the Cache-Control field lines of a request into d.
// A request with no Cache-Control but Pragma: no-cache is treated as
// Cache-Control: no-cache (RFC 9111 §5.4).
func requestDirectives(req *codec.Request, d *Directives) {
	seen := false
	pragma := false
	for i := range req.Headers {
		h := &req.Headers[i]
		switch len(h.Name) {
		case 13:
			if codec.EqualFold(h.Name, "cache-control") {
				seen = true
				ParseCacheControl(h.Value, d)
			}
		case 6:
			if codec.EqualFold(h.Name, "pragma") && codec.ListHas(h.Value, "no-cache") {
				pragma = true
			}
		}
	}
	if !seen && pragma {
		d.Flags |= CCNoCache
	}
}

// headerDirectives parses every Cache-Control line of a response header.
func headerDirectives(hdr []codec.Header, d *Directives) {
	for i := range hdr {
		if codec.EqualFold(hdr[i].Name, "cache-control") {
			ParseCacheControl(hdr[i].Value, d)
		}
	}
}
