package cache

import (
	"time"

	"edgeproxy/codec"
)

// Decision is what a lookup found and how the stored response may be used.
type Decision uint8

// The decisions of Lookup.
const (
	// Miss: nothing usable is stored; fetch from the origin.
	Miss Decision = iota
	// Fresh: serve the stored response. It is fresh, or stale within what
	// the request's max-stale accepts (then Hit.TTL is negative).
	Fresh
	// StaleRevalidate: the stored response must be validated with the origin
	// before use (it is stale, or no-cache applies, or the request's max-age
	// or min-fresh is not met). Hit.ETag and Hit.LastModified give the
	// validators for the conditional request.
	StaleRevalidate
	// StaleWhileRevalidate: serve the stale response now and refresh it in
	// the background (RFC 5861 §3).
	StaleWhileRevalidate
	// StaleIfError: as StaleRevalidate, but the stale response may be served
	// if the origin fails: a 500, 502, 503 or 504, or no answer
	// (RFC 5861 §4).
	StaleIfError
	// OnlyIfCachedMiss: the request has only-if-cached and nothing can be
	// served without the origin; answer 504 (RFC 9111 §5.2.1.7).
	OnlyIfCachedMiss
)

var decisionNames = [...]string{"miss", "fresh", "stale-revalidate", "stale-while-revalidate", "stale-if-error", "only-if-cached-miss"}

// String returns the decision's name for logs.
func (d Decision) String() string {
	if int(d) < len(decisionNames) {
		return decisionNames[d]
	}
	return "invalid"
}

// Hit is a view of a stored response, valid only during the Lookup callback:
// its slices point into freecache's memory under a segment lock.
type Hit struct {
	Status int
	// Header is the stored field lines, "Name: value\r\n" each, without a
	// status line, Age, Content-Length or the final CRLF.
	Header []byte
	// Body is the body of a tier-S object; nil for tier L.
	Body []byte
	// Large is the body of a tier-L object, nil for tier S. It is held only
	// during the callback: Retain it there to send it afterwards, and Release
	// it when the write has finished.
	Large *Ref
	// Size is the body length: the Content-Length to send.
	Size int64
	// Age is current_age (RFC 9111 §4.2.3), for the Age field.
	Age time.Duration
	// TTL is freshness_lifetime minus current_age: negative when stale.
	TTL time.Duration
	// ByRequest reports a StaleRevalidate decision taken only because of
	// the request's directives (no-cache, max-age, min-fresh): the stored
	// response is fresh, and would have been served without them. RFC 9211
	// §2.4 calls the forward fwd=request then, not fwd=stale.
	ByRequest bool
	// ETag and LastModified are the stored validators' values (views into
	// Header), nil when absent.
	ETag, LastModified []byte
	// Prefetched reports an object stored by a prefetch (Meta.Prefetch)
	// and not yet served to a client (ClaimPrefetch), nor fetched again
	// for one.
	Prefetched bool

	flags *byte // Prefetched tier-S objects: the entry's flags byte, under the segment lock

	modTime int64 // Last-Modified, else Date, in unix seconds (§4.3.2)
	now     int64 // the lookup's clock, unix seconds
}

// ClaimPrefetch reports whether h is the first hit served to a client on an
// object a prefetch stored, and marks that prefetch used: counting these
// counts the prefetches used before they were evicted (issue 17). Call it
// only inside the Lookup callback, and only for a hit that is served: a
// tier-S entry's flag is cleared in place under its segment lock (a value
// that wraps freecache's ring is a copy, so such an object may be claimed
// twice: rare).
func (h *Hit) ClaimPrefetch() bool {
	switch {
	case !h.Prefetched:
		return false
	case h.Large != nil:
		return h.Large.unusedPrefetch.Swap(false)
	case h.flags != nil && *h.flags&flagPrefetched != 0:
		*h.flags &^= flagPrefetched
		return true
	}
	return false
}

// lookupBuf is the stack space for a variant key; a Vary secondary key longer
// than that is built on the heap.
const lookupBuf = 2048

// served is what serving one object entry came to.
type served struct {
	d        Decision
	panicked any // a panic of fn, raised again once the segment lock is free
}

// Lookup finds the response stored under key (from AppendKey) for req,
// decides how it may be used at now, and, unless the decision is Miss or
// OnlyIfCachedMiss, calls fn once with a view of it. fn runs under a
// freecache segment lock: it may copy or write bytes, and must neither block
// nor call back into the Cache (Retain and Release of Hit.Large excepted). A
// panic in fn is raised again after the lock is released.
//
// Lookup allocates nothing and performs no I/O. Two exceptions, both rare:
// a Vary secondary key longer than 2 KiB is built on the heap, and freecache
// copies a value that wraps around the end of its segment ring.
//
// Only GET and HEAD are looked up; the key ignores the method, so a HEAD is
// answered from the stored GET. Request directives are honoured (max-age,
// min-fresh, max-stale with or without a value, no-cache and Pragma:
// no-cache, only-if-cached, stale-if-error); a request's no-store does not
// prevent answering from the cache.
func (c *Cache) Lookup(key []byte, req *codec.Request, now time.Time, fn func(h Hit, d Decision)) Decision {
	if len(key) == 0 || key[0] == 0 || !(string(req.Method) == "GET" || string(req.Method) == "HEAD") {
		c.misses.Add(1)
		return Miss
	}
	c.clock.advance(now.Unix())
	var rd Directives
	requestDirectives(req, &rd)
	ns := now.UnixNano()
	var buf [lookupBuf]byte
	vk := buf[:0]
	vary := false
	var res served
	found := false
	_ = c.fc.GetFn(key, func(v []byte) error {
		found = true
		if gen, names, ok := decodeVary(v); ok {
			vary = true
			vk = appendVariantKey(vk, gen, names, req)
			return nil
		}
		res = c.serve(v, nil, &rd, ns, fn)
		return nil
	})
	if !found {
		r, entry, rec := c.large.get(key)
		if r != nil {
			res = c.serve(entry, r, &rd, ns, fn)
		} else if gen, names, ok := decodeVary(rec); ok {
			vary = true
			vk = appendVariantKey(vk, gen, names, req)
		}
	}
	if vary {
		found = false
		_ = c.fc.GetFn(vk, func(v []byte) error {
			found = true
			res = c.serve(v, nil, &rd, ns, fn)
			return nil
		})
		if !found {
			if r, entry, _ := c.large.get(vk); r != nil {
				res = c.serve(entry, r, &rd, ns, fn)
			}
		}
	}
	if res.panicked != nil {
		panic(res.panicked)
	}
	if res.d == Miss && rd.Has(CCOnlyIfCached) {
		res.d = OnlyIfCachedMiss
	}
	if res.d == Miss || res.d == OnlyIfCachedMiss {
		c.misses.Add(1)
	} else {
		c.hits.Add(1)
	}
	return res.d
}

// serve decides on a stored object entry v and hands it to fn: a tier-S
// entry under its segment lock, with r nil, or the entry of the tier-L
// object r, which serve releases.
func (c *Cache) serve(v []byte, r *Ref, rd *Directives, now int64, fn func(Hit, Decision)) (res served) {
	defer func() {
		if p := recover(); p != nil {
			res.panicked = p
		}
	}()
	if r != nil {
		defer r.Release()
	}
	var m meta
	if !decodeMeta(v, &m) || (m.largeID != 0) != (r != nil) {
		return res
	}
	d, age, ttl := decide(&m, rd, now)
	if rd.Has(CCOnlyIfCached) && (d == StaleRevalidate || d == StaleIfError) {
		res.d = OnlyIfCachedMiss
		return res
	}
	hdr := entryHeader(v, &m)
	h := Hit{
		Status:     int(m.status),
		Header:     hdr,
		Size:       m.size,
		Age:        time.Duration(age),
		TTL:        time.Duration(ttl),
		ByRequest:  byRequest(&m, d, ttl),
		modTime:    m.modTime,
		now:        now / int64(time.Second),
		Prefetched: m.flags&flagPrefetched != 0,
	}
	switch {
	case h.Prefetched && r != nil:
		h.Prefetched = r.unusedPrefetch.Load()
	case h.Prefetched:
		h.flags = &v[1]
	}
	if m.etagLen > 0 {
		h.ETag = hdr[m.etagOff : m.etagOff+m.etagLen]
	}
	if m.lmLen > 0 {
		h.LastModified = hdr[m.lmOff : m.lmOff+m.lmLen]
	}
	if r != nil {
		h.Large = r
	} else {
		h.Body = entryBody(v, &m)
	}
	res.d = d
	fn(h, d)
	return res
}

// byRequest reports whether decision d, taken by decide for m with ttl left,
// is a revalidation only the request's directives asked for: decide
// revalidates a fresh object without the response's own no-cache only for
// the request's no-cache, max-age or min-fresh.
func byRequest(m *meta, d Decision, ttl int64) bool {
	return d == StaleRevalidate && ttl > 0 && m.flags&flagNoCache == 0
}

// decide applies RFC 9111 §4.2 and RFC 5861 to a stored object at now, and
// returns the decision with current_age and freshness_lifetime - current_age.
func decide(m *meta, rd *Directives, now int64) (d Decision, age, ttl int64) {
	const sec = int64(time.Second)
	age = currentAge(m, now)
	ttl = m.lifetime - age
	switch {
	case m.flags&flagImmutable != 0 && ttl > 0 && m.flags&flagNoCache == 0:
		// An immutable refresh rule: the URL names one version forever,
		// so a client's reload has nothing to learn from the origin.
		return Fresh, age, ttl
	case rd.Has(CCNoCache) || m.flags&flagNoCache != 0:
		return StaleRevalidate, age, ttl
	case rd.Has(CCMaxAge) && age > int64(rd.MaxAge)*sec:
		return StaleRevalidate, age, ttl
	case rd.Has(CCMinFresh) && ttl < int64(rd.MinFresh)*sec:
		return StaleRevalidate, age, ttl
	case ttl > 0:
		return Fresh, age, ttl
	case m.flags&flagNoStale != 0:
		// must-revalidate, proxy-revalidate and s-maxage forbid every kind
		// of stale use (§4.2.4, §5.2.2.2).
		return StaleRevalidate, age, ttl
	}
	stale := -ttl
	switch {
	case rd.Has(CCMaxStaleAny) || (rd.Has(CCMaxStale) && stale <= int64(rd.MaxStale)*sec):
		return Fresh, age, ttl
	case m.swr > 0 && stale <= int64(m.swr)*sec:
		return StaleWhileRevalidate, age, ttl
	}
	sie := int64(m.sie)
	if rd.Has(CCStaleIfError) {
		sie = max(sie, int64(rd.StaleIfError))
	}
	if sie > 0 && stale <= sie*sec {
		return StaleIfError, age, ttl
	}
	return StaleRevalidate, age, ttl
}
