package engine

import (
	"errors"
	"io"
	"sync"
	"time"

	"edgeproxy/cache"
	"edgeproxy/cache/disk"
	"edgeproxy/codec"
)

// diskBufs pools the 256 KiB buffers disk bodies are read into: reads
// aligned to the store's chunk records cost one pread and one CRC each.
var diskBufs = sync.Pool{New: func() any { return new([disk.ChunkSize]byte) }}

// serveDisk answers a memory miss from the disk tier, on the worker. It
// reports false when the disk holds nothing fresh for the request (nothing
// stored, another variant, stale, unreadable), and the exchange then goes
// to the origin; it reports true once it has answered or, after bytes were
// sent, closed the connection.
func (ex *exchange) serveDisk(w sink) bool {
	t := ex.s.disk
	if t == nil || ex.creq.Method == nil {
		return false
	}
	d := t.pick(ex.key)
	t0 := time.Now()
	if !d.usable(t0) {
		return false
	}
	o, ok := d.st.Get(ex.key)
	if !ok {
		return false
	}
	meta, err := o.Meta()
	d.timed(t0)
	if err != nil {
		ex.diskReadFailed(d, err)
		return false
	}
	c := ex.s.cache
	h, dec := c.DiskHit(meta, &ex.creq, time.Now())
	if dec != cache.Fresh {
		if dec != cache.Miss && dec != cache.OnlyIfCachedMiss {
			ex.revalidateDisk(d, o, meta, &h, dec)
		}
		return false
	}
	closing := ex.close || ex.s.draining.Load()
	plan := planHit(&ex.creq, &h, make([]codec.ByteRange, 0, 1))
	if len(plan.ranges) > 1 { // answered whole, as serveStored does
		plan = hitPlan{status: h.Status, length: h.Size}
	}
	head := appendHitHead(w.buffer(), &h, &plan, ex.s.set.name, 0, closing, "")
	ex.status, ex.code = plan.status, codeHit
	ex.ctype = string(fieldValue(h.Header, "Content-Type"))
	d.served.Add(1)
	if plan.noBody {
		if plan.status == 304 {
			ex.code = codeINMHit
		}
		w.finish(head, nil, nil, closing)
		return true
	}
	start, end := int64(0), h.Size
	if len(plan.ranges) == 1 {
		start, end = plan.ranges[0].Start, plan.ranges[0].End+1
	}
	promote := len(plan.ranges) == 0 && o.Hits >= promoteHits && h.Size <= c.MaxObject()
	var kept [][]byte
	if promote {
		kept = make([][]byte, 0, (h.Size+disk.ChunkSize-1)/disk.ChunkSize)
	}
	if !ex.sendDisk(w, d, o, head, start, end, closing, &kept) {
		return false
	}
	if promote && kept != nil {
		if err := c.Promote(ex.key, meta, kept); err == nil {
			d.promoted.Add(1)
		}
	}
	return true
}

// revalidateDisk turns a miss into a revalidation when the disk holds a
// stale copy with validators, as Squid and Traffic Server revalidate their
// disk objects: the copy is read back into memory (Promote) and the
// exchange then asks the origin with If-None-Match / If-Modified-Since like
// any stale memory entry. A 304 costs the uplink a few hundred bytes
// instead of the body, which after a long restart is most of the cache.
// Objects too large for memory, without validators, or refused by
// admission stay misses.
func (ex *exchange) revalidateDisk(d *diskDir, o *disk.Object, meta []byte, h *cache.Hit, dec cache.Decision) {
	c := ex.s.cache
	if (h.ETag == nil && h.LastModified == nil) || h.Size > c.MaxObject() {
		return
	}
	etag, lastMod := nonEmpty(h.ETag), nonEmpty(h.LastModified) // h views meta
	body, err := loadDisk(o, h.Size)
	if err != nil {
		ex.diskReadFailed(d, err)
		return
	}
	if c.Promote(ex.key, meta, body) != nil {
		return
	}
	ex.mode, ex.etag, ex.lastMod = cacheRevalidate, etag, lastMod
	ex.stale, ex.byRequest = cache.StaleRevalidate, h.ByRequest
	if dec == cache.StaleIfError {
		ex.stale = dec
	}
}

// loadDisk reads the whole body of o into fresh chunks of the store's
// record size, as Promote takes them.
func loadDisk(o *disk.Object, size int64) ([][]byte, error) {
	body := make([][]byte, 0, (size+disk.ChunkSize-1)/disk.ChunkSize)
	for off := int64(0); off < size; off += disk.ChunkSize {
		b := make([]byte, min(size-off, disk.ChunkSize))
		if n, err := o.ReadAt(b, off); n < len(b) {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		body = append(body, b)
	}
	return body, nil
}

// sendDisk streams bytes [start, end) of o behind head. Each read ends at
// a chunk record's boundary; small bodies are read into the sink's own
// buffers, which it frees when their write is done. It reports false when
// the first read fails (nothing was sent: the caller fetches instead); a
// later failure closes the connection, since a truncated body must not pass
// for a whole one. With kept non-nil, the body is read into fresh buffers
// that *kept collects for promotion; *kept is nil when that failed.
func (ex *exchange) sendDisk(w sink, d *diskDir, o *disk.Object, head []byte, start, end int64, closing bool, kept *[][]byte) bool {
	if start == end {
		w.finish(head, nil, nil, closing)
		return true
	}
	var bufs [2]*[disk.ChunkSize]byte
	last := -1 // the buffer of the final write, which may still be in flight
	defer func() {
		for i, b := range bufs {
			if b != nil && i != last {
				diskBufs.Put(b)
			}
		}
	}()
	for i, off := 0, start; off < end; i ^= 1 {
		lim := min(end, (off/disk.ChunkSize+1)*disk.ChunkSize)
		n := int(lim - off)
		var b []byte
		switch {
		case *kept != nil:
			b = make([]byte, n)
		case n <= chunk:
			b = w.chunk(i)[:n]
		default:
			if bufs[i] == nil {
				bufs[i] = diskBufs.Get().(*[disk.ChunkSize]byte)
			}
			b = bufs[i][:n]
		}
		if m, err := o.ReadAt(b, off); m < n {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			ex.diskReadFailed(d, err)
			*kept = nil
			if head != nil {
				return false
			}
			w.abort()
			return true
		}
		if *kept != nil {
			*kept = append(*kept, b)
		}
		off = lim
		if off == end {
			last = i
			w.finish(head, b, nil, closing)
			return true
		}
		if err := w.write(head, b, nil); err != nil {
			*kept = nil
			w.abort()
			return true
		}
		head = nil
	}
	return true
}

// diskReadFailed notes a failed disk read. A corrupt record has left the
// index already (the store drops it), so the fetch that follows stores a
// good copy; the access log says TCP_SWAPFAIL_MISS, as Squid does.
func (ex *exchange) diskReadFailed(d *diskDir, err error) {
	switch {
	case errors.Is(err, disk.ErrCorrupt):
		ex.code = codeSwapFailMiss
		ex.s.log.Warn("disk record corrupt: dropped, fetching again", "dir", d.path, "url", string(ex.key), "err", err)
	case errors.Is(err, disk.ErrEvicted), errors.Is(err, disk.ErrNotFound), errors.Is(err, disk.ErrClosed):
	default:
		ex.s.log.Debug("disk read failed", "dir", d.path, "url", string(ex.key), "err", err)
	}
}
