// Package admission decides whether a response about to be stored is worth
// the bytes it would push out: TinyLFU (Einziger, Friedman and Manes,
// "TinyLFU: A Highly Efficient Cache Admission Policy", 2017) made size-aware,
// with a ghost list of keys the cache recently held.
//
// Frequency. A Sketch is a count-min sketch of 4-bit counters: 4 rows, each
// a power of two wide, sized from the expected number of cached objects.
// Record increments the key's smallest counters (conservative update); after
// W = 10 × width increments every counter is halved, so the sketch counts
// the recent past and forgets old popularity. Counters are packed sixteen to
// a uint64 and changed by compare-and-swap, so event loops share one sketch
// without a lock.
//
// Ghost. A Ghost remembers the hashes of keys that left the cache (Evicted)
// or that were stored lately (Stored, for stores that cannot report their
// evictions, such as freecache): two Bloom filters, the older cleared and
// reused when the newer is full. A key asked for again while the ghost still
// holds it earns one request of credit: the cache had it and lost it.
//
// Admission. Admit(h, size) refuses an object bigger than the cache and
// otherwise asks the sketch: an object of up to SmallSize (64 KiB) bytes
// needs a frequency of 2 (it was asked for before: a doorkeeper against
// one-timers); a bigger one needs 1 + ceil(log2(size / SmallSize)), at most
// 15, the counters' ceiling: 2 for 128 KiB, 5 for 1 MiB, 12 for 100 MiB.
// Each doubling of size must be paid for with one more recent request, so a
// single large download cannot flush thousands of small objects that keep
// being asked for. A ghost hit lowers the need by one: a small object the
// cache lost comes back on its next request.
//
// Keys are 64-bit hashes of the cache key (Hash: xxhash), so no call
// allocates and no key is kept.
package admission
