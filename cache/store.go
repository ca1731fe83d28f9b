package cache

import (
	"bytes"
	"time"

	"edgeproxy/cache/admission"
)

// store puts the complete body of w into the tiers: a body that fits an entry
// with its key, metadata and header block goes to freecache whole (tier S);
// a bigger one goes to tier L with its metadata and header block, where
// nothing but tier L's own eviction or a replacement drops it. A response
// with Vary is stored under its variant key, after the URL's Vary record.
func (c *Cache) store(w *Writer) error {
	c.clock.advance(time.Now().Unix())
	objKey := w.key
	var vary []byte
	if w.names != nil {
		gen, err := c.varyRecord(w.key, w.names)
		if err != nil {
			return err
		}
		objKey = make([]byte, 0, variantPrefix+len(w.sec))
		objKey = append(objKey, 0)
		objKey = appendGen(objKey, gen)
		objKey = append(objKey, w.sec...)
		vary = appendVary(nil, gen, w.names)
	}
	m := w.meta
	m.size = w.size
	small := c.inTierS(w, w.size)
	var cost int64
	for _, ch := range w.chunks {
		cost += int64(cap(ch))
	}
	if !c.admits(w, w.size, !small, cost) {
		return ErrNotAdmitted
	}
	if small {
		value := make([]byte, 0, metaSize+len(w.block)+int(w.size))
		value = appendMeta(value, &m)
		value = append(value, w.block...)
		for _, ch := range w.chunks {
			value = append(value, ch...)
		}
		if err := c.fc.Set(objKey, value, 0); err != nil {
			return ErrTooLarge
		}
		c.wroteSmall(len(objKey) + len(value))
		c.large.remove(objKey)
		if c.admit.Enabled() {
			// freecache evicts silently: the ghost list learns of a
			// tier-S object when it is stored instead
			// (admission.Policy.Stored).
			c.admit.Stored(admission.Hash(w.key))
		}
	} else {
		m.largeID = 1 // marks a tier-L entry; insert writes the real id
		entry := make([]byte, 0, metaSize+len(w.block))
		entry = appendMeta(entry, &m)
		entry = append(entry, w.block...)
		if _, err := c.large.insert(string(w.key), string(objKey), vary, entry, w.chunks, w.size); err != nil {
			return err
		}
		c.fc.Del(objKey)
	}
	c.stores.Add(1)
	if w.prefetch {
		c.prefetchStores.Add(1)
	}
	return nil
}

// varyRecord makes sure the URL key holds a Vary record listing names and
// returns its generation. A record with other names keeps its generation
// (the names are part of every secondary key, so old variants stop
// matching); an object stored under the URL is replaced, and a new record
// gets a generation never used before, unless tier L still holds the URL's
// record for its variants.
func (c *Cache) varyRecord(key, names []byte) (uint64, error) {
	var gen uint64
	// A record lost by freecache while variants remain in tier L is taken
	// from there, so those variants stay reachable.
	lgen, lnames, lok := decodeVary(c.large.varyOf(key))
	_, _, err := c.fc.Update(key, func(v []byte, found bool) ([]byte, bool, int) {
		if found {
			if g, n, ok := decodeVary(v); ok {
				gen = g
				if bytes.Equal(n, names) {
					return nil, false, 0
				}
				return appendVary(nil, g, names), true, 0
			}
		}
		if lok {
			gen = lgen
			return appendVary(nil, gen, names), true, 0
		}
		gen = c.gen.Add(1)
		return appendVary(nil, gen, names), true, 0
	})
	if err != nil {
		return 0, ErrTooLarge
	}
	c.wroteSmall(len(key) + varySize + len(names))
	// An object stored under the URL key itself is replaced by the record.
	c.large.remove(key)
	if lok && (lgen != gen || !bytes.Equal(lnames, names)) {
		c.large.setVary(key, appendVary(nil, gen, names))
	}
	return gen, nil
}
