package engine

import (
	"errors"
	"io"
	"time"

	"edgeproxy/cache"
	"edgeproxy/cache/disk"
)

// Spool tuning: at most spoolPieces read buffers (chunk bytes each, 4 MiB in
// all) wait between the relay and the disk; a relay that finds them full
// waits at most spoolStall for one to leave before it gives the disk copy
// up, so a disk that cannot keep up costs its copy, not the client's time.
const (
	spoolPieces = 64
	spoolStall  = time.Second
)

// errSpoolAborted ends a spool's Put: the relay gave up, nothing is indexed.
var errSpoolAborted = errors.New("engine: disk spool aborted")

// spool streams a response too large for memory to a disk store while it is
// relayed: the relay copies each piece it reads into a pooled buffer and
// queues it, and a goroutine's Put reads the queue. The store indexes the
// object only once all its bytes are written, so an abort, an origin cut
// short, or a disk that cannot keep up stores nothing.
type spool struct {
	pieces  chan spoolPiece
	aborted chan struct{} // closed by abort
	done    chan struct{} // closed when Put has returned
	dead    bool          // the relay stopped feeding: abort or a stall

	cur spoolPiece // being read by Put
	off int
}

type spoolPiece struct {
	b *[chunk]byte
	n int
}

// startSpool gives a response whose declared length is over the memory
// tiers' limit (so Storable refused it, or its Writer would die at
// max_object) a disk-only fill, when a directory can take it and a spool
// slot is free.
func (ex *exchange) startSpool(m *cache.Meta) {
	t, c := ex.s.disk, ex.s.cache
	if t == nil || m.ContentLength <= c.MaxObject() {
		return
	}
	d := t.pick(ex.key)
	if d.st == nil || m.ContentLength > d.st.MaxObject() {
		return
	}
	meta, expires, ok := c.DiskMeta(ex.key, &ex.creq, m)
	if !ok {
		return
	}
	select {
	case d.spools <- struct{}{}:
	default:
		d.skipped.Add(1)
		return
	}
	ex.abortFill() // memory would drop it at max_object anyway
	sp := &spool{pieces: make(chan spoolPiece, spoolPieces), aborted: make(chan struct{}), done: make(chan struct{})}
	key, size := ex.key, m.ContentLength
	go func() {
		defer func() { <-d.spools }()
		defer close(sp.done)
		err := d.st.Put(key, meta, sp, size, expires)
		if err != nil && !errors.Is(err, disk.ErrBusy) {
			t.log.Debug("disk spool not stored", "dir", d.path, "key", string(key), "err", err)
		}
	}()
	ex.spool = sp
}

// write queues a copy of p for the disk. When the queue is full it waits
// at most spoolStall for room, then gives the disk copy up.
func (sp *spool) write(p []byte) {
	for len(p) > 0 && !sp.dead {
		b := getChunk()
		n := copy(b[:], p)
		p = p[n:]
		pc := spoolPiece{b: b, n: n}
		select {
		case sp.pieces <- pc:
			continue
		case <-sp.done:
		default:
			t := time.NewTimer(spoolStall)
			select {
			case sp.pieces <- pc:
				t.Stop()
				continue
			case <-sp.done:
			case <-t.C:
			}
			t.Stop()
		}
		chunks.Put(b)
		sp.abort()
	}
}

// commit ends the body: Put reads what is queued and indexes the object.
func (sp *spool) commit() {
	if !sp.dead {
		sp.dead = true
		close(sp.pieces)
	}
}

// abort ends the spool without storing anything.
func (sp *spool) abort() {
	if !sp.dead {
		sp.dead = true
		close(sp.aborted)
	}
}

// Read implements io.Reader for Put.
func (sp *spool) Read(p []byte) (int, error) {
	for sp.cur.b == nil || sp.off == sp.cur.n {
		if sp.cur.b != nil {
			chunks.Put(sp.cur.b)
			sp.cur = spoolPiece{}
		}
		select {
		case pc, ok := <-sp.pieces:
			if !ok {
				return 0, io.EOF
			}
			sp.cur, sp.off = pc, 0
		case <-sp.aborted:
			return 0, errSpoolAborted
		}
	}
	n := copy(p, sp.cur.b[sp.off:sp.cur.n])
	sp.off += n
	return n, nil
}

// endSpool commits or aborts the exchange's spool, if any.
func (ex *exchange) endSpool(commit bool) {
	if ex.spool == nil {
		return
	}
	if commit {
		ex.spool.commit()
	} else {
		ex.spool.abort()
	}
	ex.spool = nil
}
