package cache

import (
	"bytes"
	"time"

	"edgeproxy/codec"
)

// heuristicStatus reports whether a status code is heuristically cacheable
// (RFC 9110 §15.1). 206 is left out: partial responses are not stored.
func heuristicStatus(status int) bool {
	switch status {
	case 200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501:
		return true
	}
	return false
}

// understoodStatus reports whether this cache knows the semantics of a final
// status code, as must-understand requires (RFC 9111 §5.2.2.3). 206 and 304
// are understood but never stored as a whole response.
func understoodStatus(status int) bool {
	switch status {
	case 200, 201, 202, 203, 204, 205,
		300, 301, 302, 303, 307, 308,
		400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415,
		416, 417, 421, 422, 426, 428, 429, 431, 451,
		500, 501, 502, 503, 504, 505:
		return true
	}
	return false
}

// times are the inputs of the age calculation of RFC 9111 §4.2.3, in unix
// nanoseconds, taken from one response.
type times struct {
	date     int64 // date_value: the Date field, or response_time without one
	age      int64 // age_value: the Age field, 0 without one
	request  int64 // request_time
	response int64 // response_time
}

// responseTimes reads Date and Age from a response and its exchange times.
// A zero ResponseTime is taken as now, a zero RequestTime as ResponseTime.
func responseTimes(m *Meta) times {
	t := times{response: m.ResponseTime.UnixNano(), request: m.RequestTime.UnixNano()}
	if m.ResponseTime.IsZero() {
		t.response = time.Now().UnixNano()
	}
	if m.RequestTime.IsZero() || t.request > t.response {
		t.request = t.response
	}
	t.date = t.response
	dateSeen, ageSeen := false, false
	for i := range m.Header {
		h := &m.Header[i]
		switch {
		case !dateSeen && codec.EqualFold(h.Name, "date"):
			if d, ok := codec.ParseHTTPDate(h.Value); ok {
				t.date = d.UnixNano()
				dateSeen = true
			}
		case !ageSeen && codec.EqualFold(h.Name, "age"):
			// Age is a singleton, but a list-valued one counts with its
			// first member, and a first member that is not delta-seconds
			// makes the whole field ignored (RFC 9111 §5.1). Repeated field
			// lines are one list, so the first line decides.
			ageSeen = true
			v := h.Value
			if i := bytes.IndexByte(v, ','); i >= 0 {
				v = v[:i]
			}
			if n, ok := delta(codec.TrimOWS(v)); ok {
				t.age = int64(n) * int64(time.Second)
			}
		}
	}
	return t
}

// initialAge is corrected_initial_age (RFC 9111 §4.2.3): the larger of the
// apparent age (clamped at zero, so a Date in the future from a skewed origin
// clock counts as zero) and the Age received plus the response delay.
func (t times) initialAge() int64 {
	apparent := t.response - t.date
	if apparent < 0 {
		apparent = 0
	}
	corrected := t.age + (t.response - t.request)
	return max(apparent, corrected)
}

// currentAge is current_age (§4.2.3) at now. A clock that went backwards
// since the response arrived counts no resident time.
func currentAge(m *meta, now int64) int64 {
	resident := now - m.responseTime
	if resident < 0 {
		resident = 0
	}
	return m.initialAge + resident
}

// lifetime computes freshness_lifetime (§4.2.1) in nanoseconds: s-maxage,
// else max-age, else Expires minus Date (an invalid or repeated Expires means
// already expired), else a heuristic (§4.2.2) of HeuristicPercent of the time
// since Last-Modified, capped at HeuristicMax, for heuristically cacheable
// status codes and responses marked public.
//
// A refresh rule (Options.RefreshRules) matching the URL key replaces the
// heuristic, and an immutable one every explicit expiry too.
func (c *Cache) lifetime(status int, d *Directives, hdr []codec.Header, t times, rule *RefreshRule) int64 {
	if rule != nil && rule.Immutable {
		return rule.lifetime(0, 0)
	}
	if d.Has(CCSMaxAge) {
		return int64(d.SMaxAge) * int64(time.Second)
	}
	if d.Has(CCMaxAge) {
		return int64(d.MaxAge) * int64(time.Second)
	}
	var expires, lastMod []byte
	nExpires := 0
	for i := range hdr {
		switch {
		case codec.EqualFold(hdr[i].Name, "expires"):
			nExpires++
			expires = hdr[i].Value
		case lastMod == nil && codec.EqualFold(hdr[i].Name, "last-modified"):
			lastMod = hdr[i].Value
		}
	}
	if nExpires > 0 {
		e, ok := codec.ParseHTTPDate(expires)
		if !ok || nExpires > 1 {
			return 0
		}
		return max(0, e.UnixNano()-t.date)
	}
	if rule != nil && (heuristicStatus(status) || d.Has(CCPublic)) {
		var lm int64
		if v, ok := codec.ParseHTTPDate(lastMod); ok && lastMod != nil {
			lm = v.UnixNano()
		}
		return rule.lifetime(t.date, lm)
	}
	if c.heuristicPercent <= 0 || !(heuristicStatus(status) || d.Has(CCPublic)) || lastMod == nil {
		return 0
	}
	lm, ok := codec.ParseHTTPDate(lastMod)
	if !ok {
		return 0
	}
	since := t.date - lm.UnixNano()
	if since <= 0 {
		return 0
	}
	h := since / 100 * int64(c.heuristicPercent)
	return min(h, int64(c.heuristicMax))
}

// modTime is the time If-Modified-Since is evaluated against (RFC 9111
// §4.3.2): Last-Modified, else Date, else the time the response arrived; in
// unix seconds.
func modTime(hdr []codec.Header, t times) int64 {
	for i := range hdr {
		if codec.EqualFold(hdr[i].Name, "last-modified") {
			if lm, ok := codec.ParseHTTPDate(hdr[i].Value); ok {
				return lm.Unix()
			}
			break
		}
	}
	return t.date / int64(time.Second)
}

// objectMeta fills the freshness part of an object's metadata from its
// response fields, directives and times.
func (c *Cache) objectMeta(url []byte, status int, d *Directives, hdr []codec.Header, t times, dst *meta) {
	dst.status = uint16(status)
	dst.flags = 0
	rule := c.refreshRule(url)
	if rule != nil && rule.Immutable {
		dst.flags |= flagImmutable
	}
	if d.Has(CCNoCache) {
		dst.flags |= flagNoCache
	}
	if d.Flags&(CCMustRevalidate|CCProxyRevalidate|CCSMaxAge) != 0 {
		// s-maxage carries proxy-revalidate for a shared cache (§5.2.2.10).
		dst.flags |= flagNoStale
	}
	dst.swr, dst.sie = 0, 0
	if d.Has(CCStaleWhileRevalidate) {
		dst.swr = d.StaleWhileRevalidate
	}
	if d.Has(CCStaleIfError) {
		dst.sie = d.StaleIfError
	}
	dst.responseTime = t.response
	dst.initialAge = t.initialAge()
	dst.lifetime = c.lifetime(status, d, hdr, t, rule)
	dst.modTime = modTime(hdr, t)
}

// timeOf converts unix nanoseconds to a time.Time.
func timeOf(ns int64) time.Time { return time.Unix(0, ns) }
