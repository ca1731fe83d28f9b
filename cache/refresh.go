package cache

import (
	"regexp"
	"time"
)

// RefreshRule is Squid's refresh_pattern: heuristic freshness for the URLs
// its pattern matches, for responses without an explicit expiry.
//
// With a Last-Modified, the lifetime is Percent of the time between it and
// Date, raised to Min and capped at Max; without one, it is Min. An
// explicit expiry (s-maxage, max-age, Expires) still wins, unless the rule
// is Immutable: then the object is fresh for Max whatever the response
// says, and a client's reload (no-cache, max-age=0) does not send it back
// to the origin either. That suits files whose URL names one version
// forever, such as Debian's .deb packages, whose mirrors send no
// validators: without a rule every fetch after the first would be a full
// refetch.
type RefreshRule struct {
	Pattern   *regexp.Regexp // matched against the URL key (scheme://host[:port]/path?query)
	Min, Max  time.Duration
	Percent   int // 0 to 100
	Immutable bool
}

// refreshRule returns the first rule matching the URL key, or nil.
func (c *Cache) refreshRule(url []byte) *RefreshRule {
	if len(url) == 0 || url[0] == 0 {
		return nil
	}
	for i := range c.refreshRules {
		if c.refreshRules[i].Pattern.Match(url) {
			return &c.refreshRules[i]
		}
	}
	return nil
}

// ruleLifetime is a rule's heuristic lifetime (RFC 9111 §4.2.2) in
// nanoseconds: Percent of date − lastMod, within Min and Max; Min without
// a Last-Modified (lastMod 0).
func (r *RefreshRule) lifetime(date, lastMod int64) int64 {
	if r.Immutable {
		return int64(r.Max)
	}
	if lastMod == 0 || date <= lastMod {
		return int64(r.Min)
	}
	h := (date - lastMod) / 100 * int64(r.Percent)
	return min(max(h, int64(r.Min)), int64(r.Max))
}
