package engine

// quickAbort is Squid's rule for a cacheable fetch whose client went away
// (cache.quick_abort_min, cache.quick_abort_max, cache.quick_abort_pct):
// finishing it costs uplink for an object nobody may ask for again, and
// abandoning it wastes what was fetched.
type quickAbort struct {
	min, max int64 // bytes
	pct      int64 // percent
}

// finish reports whether a fetch that has received got of length body bytes
// (-1: unknown) should go on into the cache, as Squid's
// CheckQuickAbortIsReasonable decides: yes when fewer than min bytes are
// left, no when more than max are left, otherwise yes once more than pct
// percent arrived. An unknown length, or more received than declared,
// abandons the fetch.
func (q quickAbort) finish(got, length int64) bool {
	if length < 0 || got > length {
		return false
	}
	left := length - got
	switch {
	case left < q.min:
		return true
	case left > q.max:
		return false
	case length < 100:
		return true
	}
	return got/(length/100) > q.pct
}

// keepFilling decides, when the client of a fetch that fills the cache has
// gone, whether the fill goes on: always while other clients follow it
// (collapsed forwarding), else by quick_abort. A fill that stops is
// aborted, and its origin connection is closed by the caller.
func (ex *exchange) keepFilling(got, length int64) bool {
	if ex.fill == nil {
		return false
	}
	if ex.fill.Followed() || ex.s.set.quickAbort.finish(got, length) {
		return true
	}
	ex.s.log.Debug("quick_abort: fetch abandoned", "url", ex.url(), "received", got, "length", length)
	ex.abortFill()
	return false
}
