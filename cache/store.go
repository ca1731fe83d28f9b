package cache

import (
	"bytes"
	"time"

	"edgeproxy/cache/admission"
)

// store puts the complete body of w into the tiers: a body that fits an entry
// with its key, metadata and header block goes to freecache whole (tier S);
// a bigger one goes to tier L, and freecache gets the metadata and header
// block with the tier-L id. A response with Vary is stored under its variant
// key, after the URL's Vary record.
func (c *Cache) store(w *Writer) error {
	c.clock.advance(time.Now().Unix())
	objKey := w.key
	if w.names != nil {
		gen, err := c.varyRecord(w.key, w.names)
		if err != nil {
			return err
		}
		objKey = make([]byte, 0, variantPrefix+len(w.sec))
		objKey = append(objKey, 0)
		objKey = appendGen(objKey, gen)
		objKey = append(objKey, w.sec...)
	}
	m := w.meta
	m.size = w.size
	var value []byte
	small := c.inTierS(w, w.size)
	var cost int64
	for _, ch := range w.chunks {
		cost += int64(cap(ch))
	}
	if !c.admits(w, w.size, !small, cost) {
		return ErrNotAdmitted
	}
	if small {
		value = make([]byte, 0, metaSize+len(w.block)+int(w.size))
		value = appendMeta(value, &m)
		value = append(value, w.block...)
		for _, ch := range w.chunks {
			value = append(value, ch...)
		}
	} else {
		r, err := c.large.insert(string(w.key), w.chunks, w.size)
		if err != nil {
			return err
		}
		m.largeID = r.id
		value = make([]byte, 0, metaSize+len(w.block))
		value = appendMeta(value, &m)
		value = append(value, w.block...)
	}
	old := c.oldLarge(objKey)
	if err := c.fc.Set(objKey, value, 0); err != nil {
		if m.largeID != 0 {
			c.large.remove(m.largeID)
		}
		return ErrTooLarge
	}
	c.setBytes.Add(int64(fcEntryHeader + len(objKey) + len(value)))
	c.sets.Add(1)
	// A commit racing this one between oldLarge and Set can leave its body
	// unreferenced in tier L; nothing will acquire it again, so it drifts to
	// the LRU tail and is evicted first.
	if old != 0 && old != m.largeID {
		c.large.remove(old)
	}
	if m.largeID == 0 && c.admit.Enabled() {
		// freecache evicts silently: the ghost list learns of a tier-S
		// object when it is stored instead (admission.Policy.Stored).
		c.admit.Stored(admission.Hash(w.key))
	}
	c.stores.Add(1)
	return nil
}

// oldLarge returns the tier-L id of the object stored under key, or 0.
func (c *Cache) oldLarge(key []byte) uint64 {
	var id uint64
	_ = c.fc.PeekFn(key, func(v []byte) error {
		var m meta
		if decodeMeta(v, &m) {
			id = m.largeID
		}
		return nil
	})
	return id
}

// varyRecord makes sure the URL key holds a Vary record listing names and
// returns its generation. A record with other names keeps its generation
// (the names are part of every secondary key, so old variants stop
// matching); an object stored under the URL is replaced, and a new record
// gets a generation never used before.
func (c *Cache) varyRecord(key, names []byte) (uint64, error) {
	var gen, old uint64
	_, _, err := c.fc.Update(key, func(v []byte, found bool) ([]byte, bool, int) {
		if found {
			if g, n, ok := decodeVary(v); ok {
				gen = g
				if bytes.Equal(n, names) {
					return nil, false, 0
				}
				return appendVary(nil, g, names), true, 0
			}
			var m meta
			if decodeMeta(v, &m) {
				old = m.largeID
			}
		}
		gen = c.gen.Add(1)
		return appendVary(nil, gen, names), true, 0
	})
	if err != nil {
		return 0, ErrTooLarge
	}
	if old != 0 {
		c.large.remove(old)
	}
	return gen, nil
}
