package cache

import "edgeproxy/cache/admission"

// Record counts a request for key with the admission policy, and returns
// the key's hash, which is also the policy's. Call it once per client
// request that has a key, on the event loop that parsed it: it allocates
// nothing. Lookup does not count, since workers look up again for their own
// purposes and would count a request twice.
func (c *Cache) Record(key []byte) uint64 {
	h := admission.Hash(key)
	c.admit.Record(h)
	return h
}

// Admission returns the policy in force, nil when there is none.
func (c *Cache) Admission() *admission.Policy {
	if c == nil {
		return nil
	}
	return c.admit
}

// admits decides whether w's object, of size bytes, may be stored. Admission matters only
// once storing it would push other objects out: a tier with room takes
// every storable object, as an LRU would, and the sketch is consulted only
// for displacement. Tier S counts as full once freecache has evicted
// anything (its segments fill at about the same rate, and a full one stays
// full); tier L knows its bytes. A prefetched object is voted on like any
// other (issue 17): admitted without a vote, prefetches evicted objects that
// were then asked for, and were mostly evicted themselves before use.
func (c *Cache) admits(w *Writer, size int64, large bool, cost int64) bool {
	if large && c.large.policy == PolicyEdge {
		// Tier L weighs the object against its victims itself, at insert
		// (and here for an early vote).
		return w.admitted || c.large.admits(size, cost)
	}
	if !c.admit.Enabled() || w.admitted {
		return true
	}
	if large {
		if !c.large.full(cost) {
			return true
		}
	} else if c.fc.EvacuateCount() == 0 {
		return true
	}
	return c.admit.Admit(admission.Hash(w.key), size)
}

// admitsAtStart votes on an object whose length is known before its body
// arrives, so that a refused one is neither buffered nor reported as
// stored. An object admitted here is not asked again at Commit.
func (c *Cache) admitsAtStart(w *Writer) bool {
	if !c.admit.Enabled() && c.large.policy != PolicyEdge {
		return true
	}
	cost := w.length // chunks of a known length are allocated to fit
	ok := c.admits(w, w.length, !c.inTierS(w, w.length), cost)
	w.admitted = ok
	return ok
}
