// Package cache is edgeproxy's shared HTTP cache (RFC 9111): a store that
// event loops read without allocating or blocking, and workers fill while
// other requests follow the fill.
//
// Keys. AppendKey gives a URL key: the target URI with scheme and host
// lower-cased and the default port dropped. freecache compares the whole key,
// never only its hash, so two URLs cannot alias.
//
// Tiers. Tier S is freecache: an entry holds the key, then an 80-byte
// metadata block (status, flags, response_time, corrected_initial_age,
// freshness lifetime, body size, tier-L id, modification time, offsets of
// ETag and Last-Modified; see entry.go), the pre-serialised header block and
// the body. A body too big for an entry (Memory/1024 - 24 bytes, at most
// 256 KiB, key included) goes to tier L, a byte-bounded LRU of bodies kept as
// the 256 KiB chunks they were written in. Tier L keeps the object's
// metadata and header block in its own index, beside the body, and the
// Vary record of a URL whose variants it holds: freecache evicts silently,
// so an entry there would leave a body unreachable yet counted (issue 17).
// Lookup tries freecache, then tier L. A tier-L body handed out by
// Lookup is reference counted: eviction unlinks it at once, and its bytes
// leave the budget at the last Release.
//
// Vary. A response with Vary is stored under a variant key, and the URL key
// holds a Vary record instead: the lower-cased field names and a generation
// number that is never reused. A variant key is 0x00, the generation, and the
// secondary key built from the request's values of those fields. Lookup
// reads the record, builds the variant key on its stack, and looks again.
// Deleting the record (Invalidate, which also drops tier L's copy) makes
// every variant unreachable at once.
//
// Fills. Join registers one origin fetch per key: the leader's Writer streams
// the body into chunks, FollowReaders read them as they arrive, and Commit
// stores the object atomically with a single freecache Set. Freshness is
// computed at store time; Lookup only adds the resident time to the stored
// age and applies the request's directives.
package cache
