package engine

import (
	"sync"
	"sync/atomic"
	"time"
)

// budget bounds the background fetches of one kind (refresh-ahead or
// prefetch): how many run at once, how many bytes per second they fetch,
// and the proxy load above which none starts. Bytes are charged as they
// arrive, so fetches running at once can put the bucket into debt by what
// they fetch meanwhile; no new fetch starts until the debt is paid back.
type budget struct {
	maxRunning int64
	running    atomic.Int64

	rate    float64 // bytes per second
	mu      sync.Mutex
	tokens  float64 // bytes that may still be fetched; negative: debt
	last    time.Time
	maxLoad float64
	load    func() float64 // the share of workers busy, 0 to 1 (or above)

	started   atomic.Int64 // fetches begun
	bytesDone atomic.Int64 // bytes fetched
	// Fetches refused, by reason.
	skipLoad, skipConcurrency, skipBandwidth atomic.Int64
}

func newBudget(maxRunning int, rate int64, maxLoad float64, load func() float64) *budget {
	return &budget{maxRunning: int64(maxRunning), rate: float64(rate), tokens: float64(rate), maxLoad: maxLoad, load: load}
}

// take reserves a place for one fetch, or reports false when the load, the
// concurrency or the bandwidth budget forbids it. A true take must be
// followed by exactly one release.
func (b *budget) take(now time.Time) bool {
	if b.load() > b.maxLoad {
		b.skipLoad.Add(1)
		return false
	}
	if b.running.Add(1) > b.maxRunning {
		b.running.Add(-1)
		b.skipConcurrency.Add(1)
		return false
	}
	b.mu.Lock()
	if !b.last.IsZero() {
		b.tokens = min(b.tokens+now.Sub(b.last).Seconds()*b.rate, b.rate)
	}
	b.last = now
	ok := b.tokens > 0
	b.mu.Unlock()
	if !ok {
		b.running.Add(-1)
		b.skipBandwidth.Add(1)
		return false
	}
	b.started.Add(1)
	return true
}

// charge counts n bytes a fetch has received.
func (b *budget) charge(n int64) {
	b.bytesDone.Add(n)
	b.mu.Lock()
	b.tokens -= float64(n)
	b.mu.Unlock()
}

// release ends a fetch that take admitted.
func (b *budget) release() { b.running.Add(-1) }

// rateMeter estimates each key's request rate without storing keys: two
// count-min rows of counters indexed by the key hash, kept for the current
// and the previous window. A key's rate is the larger of the previous
// window's count over its length and the current window's count over the
// time it has run (at least a second), so a burst is seen at once and a
// steady rate survives the window's turn. Collisions only overestimate, and
// the refresh budget bounds what an overestimate costs. Adding is two atomic
// increments and allocates nothing; the window turns on the first add after
// it ends, which clears one array (a few tens of microseconds per window).
type rateMeter struct {
	period int64 // window length, ns
	mask   uint64
	win    [2][]atomic.Uint32
	epoch  atomic.Int64 // the window counting now: unix ns / period
}

// rateSlots is the number of counters per window; 2 × 2 × 4 bytes each.
const rateSlots = 1 << 16

func newRateMeter(period time.Duration) *rateMeter {
	m := &rateMeter{period: int64(period), mask: rateSlots - 1}
	m.win[0] = make([]atomic.Uint32, rateSlots)
	m.win[1] = make([]atomic.Uint32, rateSlots)
	m.epoch.Store(time.Now().UnixNano() / m.period)
	return m
}

// add counts one request for the key hashed to h at now (unix ns).
func (m *rateMeter) add(h uint64, now int64) {
	e := now / m.period
	if cur := m.epoch.Load(); e > cur && m.epoch.CompareAndSwap(cur, e) {
		clearCounters(m.win[e&1])
		if e-cur > 1 { // idle for a whole window: the previous one is empty too
			clearCounters(m.win[(e-1)&1])
		}
	}
	w := m.win[e&1]
	w[h&m.mask].Add(1)
	w[(h>>32)&m.mask].Add(1)
}

// rate returns the estimated requests per second for h at now (unix ns).
func (m *rateMeter) rate(h uint64, now int64) float64 {
	e := m.epoch.Load()
	cur := m.count(m.win[e&1], h)
	prev := m.count(m.win[(e-1)&1], h)
	if now/m.period > e { // no request at all in the window now running
		cur, prev = 0, cur
		if now/m.period > e+1 {
			prev = 0
		}
	}
	elapsed := max(float64(now-e*m.period)/float64(time.Second), 1)
	return max(float64(prev)/(float64(m.period)/float64(time.Second)), float64(cur)/elapsed)
}

func (m *rateMeter) count(w []atomic.Uint32, h uint64) uint32 {
	return min(w[h&m.mask].Load(), w[(h>>32)&m.mask].Load())
}

func clearCounters(w []atomic.Uint32) {
	for i := range w {
		w[i].Store(0)
	}
}
