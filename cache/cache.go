package cache

import (
	"sync/atomic"
	"time"

	"github.com/coocood/freecache"

	"edgeproxy/cache/admission"
)

// Options configures a Cache. The zero value of each field selects its
// default.
type Options struct {
	// Memory is the size of tier S, the freecache store, in bytes. If zero,
	// 256 MiB is used; freecache raises anything under 512 KiB to 512 KiB.
	// Its largest entry (key plus value) is Memory/1024 - 24 bytes, at most
	// 256 KiB: bigger bodies go to tier L.
	Memory int64

	// LargeMemory bounds the bytes of bodies held by tier L. If zero, 1 GiB
	// is used.
	LargeMemory int64

	// MaxObject is the largest body stored at all. If zero, 64 MiB is used.
	// It is lowered to LargeMemory when larger.
	MaxObject int64

	// HeuristicPercent is the share of the time since Last-Modified used as
	// freshness lifetime when a response has no explicit expiry
	// (RFC 9111 §4.2.2). If zero, 10 is used; a negative value turns
	// heuristic freshness off; values over 100 are taken as 100.
	HeuristicPercent int

	// HeuristicMax caps heuristic freshness. If zero, 24 hours is used.
	HeuristicMax time.Duration

	// RefreshRules give heuristic freshness by URL, as Squid's
	// refresh_pattern does; the first rule whose pattern matches a URL key
	// applies. URLs no rule matches get HeuristicPercent and HeuristicMax.
	RefreshRules []RefreshRule

	// Policy is tier L's replacement policy. The zero value is PolicyLRU.
	// Under PolicyEdge the two tiers also share one budget: tier L may
	// hold, beyond LargeMemory, the part of Memory that tier S has not
	// written yet. freecache allocates Memory at once but writes its ring
	// from the start, so pages it has not reached take no memory; tier L
	// gives the bytes back, evicting at once, as tier S writes them.
	// Under PolicyEdge, tier L admits by its own cost-benefit test and
	// Admission votes on tier-S objects only.
	Policy Policy

	// Admission decides which new objects may displace stored ones once a
	// tier is full. Nil (or a disabled policy) stores every storable object
	// that fits, evicting least recently used ones as needed.
	Admission *admission.Policy
}

// Defaults for the zero values of Options.
const (
	DefaultMemory           = 256 << 20
	DefaultLargeMemory      = 1 << 30
	DefaultMaxObject        = 64 << 20
	DefaultHeuristicPercent = 10
	DefaultHeuristicMax     = 24 * time.Hour
)

// maxSmallEntry caps a tier-S entry whatever Memory is: bigger objects are
// cheaper to keep as chunks than to copy through the freecache ring.
const maxSmallEntry = 256 << 10

// freecacheMin is freecache's smallest size (minBufSize in freecache).
const freecacheMin = 512 << 10

// Cache is a shared HTTP cache (RFC 9111). Lookup is safe to call from any
// number of event loops at once and allocates nothing; Writers, Freshen and
// Invalidate run on worker goroutines.
type Cache struct {
	fc        *freecache.Cache
	large     *large
	flights   flights
	memory    int64
	smallMax  int // largest len(key)+len(value) tier S accepts
	maxObject int64

	heuristicPercent int
	heuristicMax     time.Duration
	refreshRules     []RefreshRule
	admit            *admission.Policy

	smallWritten atomic.Int64 // bytes written into freecache: an upper bound on the part of its ring in use

	gen   atomic.Uint64 // last Vary-record generation handed out; never reused
	clock clock         // freecache's time source

	hits   paddedCounter
	misses paddedCounter
	stores paddedCounter

	// Bytes and count of the tier-S entries written, for SmallBytes:
	// freecache evicts silently, so what it holds is estimated as its
	// entry count times the mean entry written.
	setBytes, sets atomic.Int64
	prefetchStores atomic.Int64
}

// paddedCounter keeps a hot counter on a cache line of its own, so that
// loops counting hits do not also contend with misses.
type paddedCounter struct {
	atomic.Int64
	_ [56]byte
}

// New returns a Cache configured by o.
func New(o Options) *Cache {
	if o.Memory <= 0 {
		o.Memory = DefaultMemory
	}
	if o.Memory < freecacheMin {
		o.Memory = freecacheMin
	}
	if o.LargeMemory <= 0 {
		o.LargeMemory = DefaultLargeMemory
	}
	if o.MaxObject <= 0 {
		o.MaxObject = DefaultMaxObject
	}
	if o.MaxObject > o.LargeMemory {
		o.MaxObject = o.LargeMemory
	}
	switch {
	case o.HeuristicPercent == 0:
		o.HeuristicPercent = DefaultHeuristicPercent
	case o.HeuristicPercent > 100:
		o.HeuristicPercent = 100
	}
	if o.HeuristicMax <= 0 {
		o.HeuristicMax = DefaultHeuristicMax
	}
	// freecache splits its memory over 256 segments and refuses an entry
	// bigger than a quarter of a segment less its 24-byte header.
	smallMax := int(o.Memory/256/4) - 24
	if smallMax > maxSmallEntry {
		smallMax = maxSmallEntry
	}
	c := &Cache{
		large:            newLarge(o.LargeMemory, o.Policy),
		memory:           o.Memory,
		smallMax:         smallMax,
		maxObject:        o.MaxObject,
		heuristicPercent: o.HeuristicPercent,
		heuristicMax:     o.HeuristicMax,
		refreshRules:     o.RefreshRules,
		admit:            o.Admission,
	}
	if c.admit.Enabled() {
		c.large.onEvict = c.admit.Evicted
	}
	if o.Policy == PolicyEdge {
		c.large.setBorrow(o.Memory)
	}
	c.clock.advance(time.Now().Unix())
	c.fc = freecache.NewCacheCustomTimer(int(o.Memory), &c.clock)
	c.flights.init()
	return c
}

// freecacheEntryHeader is the header freecache writes before each entry's
// key and value.
const freecacheEntryHeader = 24

// wroteSmall counts an entry of n bytes (key and value) written into
// freecache and, under PolicyEdge, takes the bytes it may now be using
// back from tier L.
func (c *Cache) wroteSmall(n int) {
	c.setBytes.Add(int64(n + freecacheEntryHeader))
	c.sets.Add(1)
	before := c.smallWritten.Load()
	if before >= c.memory {
		return
	}
	after := c.smallWritten.Add(int64(n + freecacheEntryHeader))
	if c.large.policy == PolicyEdge {
		c.large.setBorrow(c.memory - after)
	}
}

// clock is freecache's time source, in unix seconds: the latest second that a
// Lookup was given or a worker read. freecache reads it on every access to
// keep its LRU access times; an atomic load costs far less than the
// time.Now it would otherwise call, which on some virtual clocks is most of
// a lookup. It never goes back, since freecache subtracts access times as
// unsigned numbers. It does not need to be exact: freecache's LRU works at
// one-second resolution and this package sets no freecache expiry.
type clock struct{ atomic.Uint32 }

// Now implements freecache.Timer.
func (k *clock) Now() uint32 { return k.Load() }

// advance moves the clock forward to sec; an earlier sec is ignored.
func (k *clock) advance(sec int64) {
	s := uint32(sec)
	for {
		cur := k.Load()
		if s <= cur || k.CompareAndSwap(cur, s) {
			return
		}
	}
}

// Stats is a snapshot of a Cache's counters.
type Stats struct {
	SmallEntries   int64 // freecache entries: tier-S objects and Vary records
	SmallCapacity  int64 // freecache bytes (Options.Memory), preallocated
	SmallBytes     int64 // estimated bytes stored in freecache: entries times the mean entry written
	SmallEvictions int64 // freecache entries evicted or moved by its LRU

	LargeObjects     int64 // tier-L objects in the index
	LargeCapacity    int64 // tier-L byte limit as configured (Options.LargeMemory)
	LargeLimit       int64 // tier-L bytes allowed now: LargeMemory, plus under PolicyEdge the part of Memory tier S has not yet written
	LargeBytes       int64 // tier-L bytes held, including evicted objects still referenced
	LargePinnedBytes int64 // of LargeBytes: evicted objects waiting for their last Release
	LargeEvictions   int64 // tier-L objects evicted to make room
	LargeRefused     int64 // tier-L objects PolicyEdge found worth less than what they would evict

	Hits   int64 // lookups that found a usable or revalidatable object
	Misses int64 // lookups that found nothing (including only-if-cached 504s)
	Stores int64 // objects committed
	// PrefetchStores counts objects a prefetch stored; with the first hits
	// on them (Hit.Prefetched) it gives the prefetches' precision, used
	// before evicted.
	PrefetchStores int64
	Inflight       int64 // fills registered by Join and not yet finished
}

// smallBytes estimates the bytes freecache holds: its entry count times the
// mean size of the entries written (key, value and freecache's 24-byte
// entry header), at most its capacity.
func (c *Cache) smallBytes() int64 {
	n := c.sets.Load()
	if n == 0 {
		return 0
	}
	return min(c.fc.EntryCount()*(c.setBytes.Load()/n), c.memory)
}

// Stats returns the current counters. It is safe to call at any time.
func (c *Cache) Stats() Stats {
	s := Stats{
		SmallEntries:   c.fc.EntryCount(),
		SmallCapacity:  c.memory,
		SmallBytes:     c.smallBytes(),
		SmallEvictions: c.fc.EvacuateCount(),
		Hits:           c.hits.Load(),
		Misses:         c.misses.Load(),
		Stores:         c.stores.Load(),
		PrefetchStores: c.prefetchStores.Load(),
		Inflight:       c.flights.count(),
	}
	c.large.stats(&s)
	return s
}
