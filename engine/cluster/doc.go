// Package cluster chooses which of several edgeproxy nodes owns a URL, so
// that N nodes cache each object once and act as one cache.
//
// The choice is rendezvous (highest random weight) hashing as the Cache
// Array Routing Protocol defines it (draft-vinod-carp-v1-03, the scheme
// Squid's carp.c implements): every member has a 32-bit hash of its name,
// every URL a 32-bit hash of its bytes; the two are combined and mixed
// (with murmur3's finaliser in place of CARP's weaker step: see combine), and
// the combined hash, scaled by the member's load-factor multiplier, is the
// member's score for that URL. The highest score owns the URL. Removing a
// member moves only the URLs it owned, each to the member with the next
// highest score; adding one takes from every member in proportion to its
// weight and moves nothing else.
//
// The same arithmetic is emitted as JavaScript for proxy auto-configuration
// files, so that browsers can send each URL to its owner with no hop. All
// integer arithmetic is on uint32 (JavaScript's >>> 0 and Math.imul), and
// the multipliers are written into the script as exact float64 literals, so
// both sides compute bit-identical scores.
package cluster
