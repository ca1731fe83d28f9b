package auth

import (
	"net/netip"
	"sync"
	"time"
)

// DefaultMaxFailures and DefaultFailureWindow are the Limiter's defaults: a
// client address may fail 10 times in a row, and regains one attempt every
// 6 seconds (a full bucket in a minute).
const (
	DefaultMaxFailures   = 10
	DefaultFailureWindow = time.Minute
)

// MaxTrackedClients bounds the addresses a Limiter remembers. An entry costs
// a few dozen bytes, so the table stays within a few MiB however many
// addresses fail; an address whose bucket has refilled is forgotten first.
const MaxTrackedClients = 65536

// Limiter bounds the failed authentications of each client address with a
// token bucket: a bucket holds up to burst attempts and refills at
// burst/window. An attempt that needs the slow hash takes a token before it
// is queued (so one address cannot have more hashes in flight than it has
// tokens) and gets it back when the password proves right; a cheap check
// that fails takes one too. An address with an empty bucket is refused
// without hashing until it refills. IPv6 addresses share the bucket of
// their /64, which is what one subscriber usually holds.
//
// A Limiter is safe for concurrent use; each call holds its mutex for a map
// look-up, except when the table is full (see MaxTrackedClients).
type Limiter struct {
	burst float64
	rate  float64 // tokens per nanosecond
	now   func() time.Time

	mu sync.Mutex // protects m
	m  map[netip.Addr]bucket
}

// bucket is one address's attempts left at the time last (Unix nanoseconds).
type bucket struct {
	tokens float64
	last   int64
}

// NewLimiter returns a Limiter that allows burst failures in a row and
// regains burst attempts per window. Zero values mean DefaultMaxFailures and
// DefaultFailureWindow.
func NewLimiter(burst int, window time.Duration) *Limiter {
	if burst <= 0 {
		burst = DefaultMaxFailures
	}
	if window <= 0 {
		window = DefaultFailureWindow
	}
	return &Limiter{
		burst: float64(burst),
		rate:  float64(burst) / float64(window),
		now:   time.Now,
		m:     make(map[netip.Addr]bucket),
	}
}

// limitKey is the table key of addr: the address itself for IPv4 (also
// when IPv4-mapped), its /64 for IPv6.
func limitKey(addr netip.Addr) netip.Addr {
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.Addr()
	}
	return addr
}

// level is b's tokens at now, refilled and capped at burst.
func (l *Limiter) level(b bucket, now int64) float64 {
	return min(l.burst, b.tokens+float64(now-b.last)*l.rate)
}

// Take takes one attempt from addr's bucket and reports whether there was
// one. A false answer means: refuse at once, without hashing.
func (l *Limiter) Take(addr netip.Addr) bool {
	k, now := limitKey(addr), l.now().UnixNano()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.m[k]
	tokens := l.burst
	if ok {
		tokens = l.level(b, now)
	} else if len(l.m) >= MaxTrackedClients {
		l.shrink(now)
	}
	if tokens < 1 {
		l.m[k] = bucket{tokens: tokens, last: now}
		return false
	}
	l.m[k] = bucket{tokens: tokens - 1, last: now}
	return true
}

// Refund gives back an attempt Take took, for credentials that proved
// right or a check that could not run.
func (l *Limiter) Refund(addr netip.Addr) {
	k, now := limitKey(addr), l.now().UnixNano()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.m[k]
	if !ok {
		return
	}
	if t := l.level(b, now) + 1; t < l.burst {
		l.m[k] = bucket{tokens: t, last: now}
	} else {
		delete(l.m, k) // a full bucket is the same as no entry
	}
}

// shrink makes room in a full table: it forgets every address whose bucket
// has refilled; then, while the table is still more than seven-eighths
// full, addresses that are not being refused, and only then refused ones,
// so that a flood of new addresses does not wipe out the lock-outs. Going
// down to seven-eighths spreads the cost of a sweep over many insertions.
// l.mu is held.
func (l *Limiter) shrink(now int64) {
	const target = MaxTrackedClients - MaxTrackedClients/8
	for k, b := range l.m {
		if l.level(b, now) >= l.burst {
			delete(l.m, k)
		}
	}
	for k, b := range l.m {
		if len(l.m) <= target {
			return
		}
		if l.level(b, now) >= 1 {
			delete(l.m, k)
		}
	}
	for k := range l.m {
		if len(l.m) <= target {
			return
		}
		delete(l.m, k)
	}
}

// Tracked is the number of addresses the table holds, for tests and stats.
func (l *Limiter) Tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}
