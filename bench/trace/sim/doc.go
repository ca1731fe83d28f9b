// Package sim simulates cache replacement policies on a request sequence, so
// that edgeproxy's policy is measured against the classic ones on exactly
// the same input (issue 17).
//
// A simulated cache holds whole objects up to a byte capacity; an object is
// its URL at one size (a change of size is a new object). Every policy sees
// the same sequence and answers hit or miss; a miss stores the object if
// the policy admits it, evicting others until it fits.
//
// Policies:
//   - LRU: least recently used first.
//   - GDSF: Squid's heap GDSF, key = L + refcount/size − 1/size, where L is
//     the key of the last object evicted (store_heap_replacement.cc).
//   - LFUDA: Squid's heap LFUDA, key = L + refcount − tie, tie the
//     1 − e^(−idle/1 day) of the last reference.
//   - Belady: the offline reference for variable sizes: evict the object
//     whose next request is furthest away (never requested again first);
//     an object never requested again is not stored.
//   - Edge: edgeproxy's policy (policy.go), which the cache package
//     implements.
//
// Prefetching (prefetch.go): RunPrefetch runs a policy that can also store
// unrequested objects (Storer: LRU and Edge) with the proxy's learner,
// prefetch.Predictor, beside the same policy without it, and measures the
// misses prefetching removes against the uplink it adds (issue 17).
package sim
