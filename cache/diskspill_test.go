package cache

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"edgeproxy/codec"
)

// spill commits r for req and returns the object bound for the disk tier.
func spill(t *testing.T, c *Cache, req *codec.Request, r resp) DiskObject {
	t.Helper()
	w := c.NewWriter(AppendKey(nil, req), req, r.meta())
	if _, err := w.Write([]byte(r.body)); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	o, ok := w.DiskObject()
	if !ok {
		t.Fatal("DiskObject: false after Commit")
	}
	return o
}

// An object read back from its disk meta is judged like the memory entry
// it came from: same status, header block, validators, age and lifetime,
// and only for the variant it was stored for.
func TestDiskMetaRoundTrip(t *testing.T) {
	c := smallCache()
	now := time.Now()
	req := newReq("GET", "http://h/d", "Accept-Encoding", "gzip")
	o := spill(t, c, req, resp{at: now, body: "disk body", headers: []string{
		"Cache-Control", "max-age=100", "ETag", `"v1"`, "Vary", "Accept-Encoding", "Age", "10"}})
	body, _ := io.ReadAll(o.Body())
	if string(body) != "disk body" || o.Size != 9 || string(o.Key) != "http://h/d" {
		t.Fatalf("object: key %q size %d body %q", o.Key, o.Size, body)
	}
	if !o.Expires.IsZero() {
		t.Errorf("Expires %v, want none: with an ETag the copy is kept to be revalidated", o.Expires)
	}
	mem := get(c, req, now.Add(5*time.Second))
	h, d := c.DiskHit(o.Meta, req, now.Add(5*time.Second))
	if d != Fresh || h.Status != 200 || string(h.Header) != mem.header || h.Age != mem.age || h.TTL != mem.ttl ||
		string(h.ETag) != `"v1"` || h.Size != 9 {
		t.Errorf("DiskHit: %v %+v; memory saw %+v", d, h, mem)
	}
	if _, d := c.DiskHit(o.Meta, newReq("GET", "http://h/d", "Accept-Encoding", "br"), now); d != Miss {
		t.Errorf("other variant: got %v, want miss", d)
	}
	if _, d := c.DiskHit(o.Meta, req, now.Add(100*time.Second)); d != StaleRevalidate {
		t.Errorf("after its lifetime: got %v, want stale-revalidate", d)
	}
	if _, d := c.DiskHit(o.Meta[:len(o.Meta)-1], req, now); d != Miss {
		t.Errorf("truncated meta: got %v, want miss", d)
	}
}

// Promote puts an object read from disk back into memory, either tier.
func TestPromote(t *testing.T) {
	now := time.Now()
	for _, size := range []int{100, 600 << 10} {
		src, dst := smallCache(), smallCache()
		req := newReq("GET", "http://h/p")
		b := strings.Repeat("x", size)
		o := spill(t, src, req, resp{at: now, body: b, headers: []string{"Cache-Control", "max-age=60"}})
		var chunks [][]byte
		for rest := []byte(b); len(rest) > 0; {
			n := min(len(rest), chunkSize)
			chunks = append(chunks, bytes.Clone(rest[:n]))
			rest = rest[n:]
		}
		if err := dst.Promote(o.Key, o.Meta, chunks); err != nil {
			t.Fatalf("size %d: Promote: %v", size, err)
		}
		if g := get(dst, req, now); g.d != Fresh || g.body != b {
			t.Errorf("size %d: after Promote got %v and %d bytes", size, g.d, len(g.body))
		}
	}
}

// A response that must be revalidated before every use goes to disk only
// with a validator to revalidate it by; without one, the disk index drops
// an object when it stops being fresh.
func TestDiskObjectKeptWhileUsable(t *testing.T) {
	c := smallCache()
	now := time.Now()
	commit := func(url string, headers ...string) *Writer {
		req := newReq("GET", url)
		w := c.NewWriter(AppendKey(nil, req), req, resp{at: now, body: "x", headers: headers}.meta())
		_, _ = w.Write([]byte("x"))
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		return w
	}
	if _, ok := commit("http://h/n", "Cache-Control", "no-cache").DiskObject(); ok {
		t.Error("no-cache response without a validator: DiskObject true, want false")
	}
	if o, ok := commit("http://h/v", "Cache-Control", "no-cache", "ETag", `"a"`).DiskObject(); !ok || !o.Expires.IsZero() {
		t.Errorf("no-cache response with an ETag: DiskObject %v, Expires %v; want kept with no expiry", ok, o.Expires)
	}
	o, ok := commit("http://h/f", "Cache-Control", "max-age=100", "Age", "10").DiskObject()
	if d := o.Expires.Sub(now); !ok || d < 89*time.Second || d > 91*time.Second {
		t.Errorf("fresh response without a validator: DiskObject %v, Expires in %v; want 90s (max-age 100 minus Age 10)", ok, d)
	}
}
