package cache

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand"
	"testing"
)

// randomBody returns n pseudo-random bytes from seed.
func randomBody(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// writeObject stores body under url in pieces of odd sizes.
func writeObject(t testing.TB, c *Cache, url string, body []byte, knownLength bool) error {
	t.Helper()
	req := newReq("GET", url)
	m := resp{headers: []string{"Cache-Control", "max-age=600", "ETag", `"big"`}, noCL: !knownLength}.meta()
	if knownLength {
		m.ContentLength = int64(len(body))
	}
	w := c.NewWriter(AppendKey(nil, req), req, m)
	for off := 0; off < len(body); {
		end := min(off+77777, len(body))
		if _, err := w.Write(body[off:end]); err != nil {
			return err
		}
		off = end
	}
	return w.Commit()
}

func TestLargeObjectRoundTrip(t *testing.T) {
	for _, known := range []bool{true, false} {
		t.Run(fmt.Sprintf("known length %v", known), func(t *testing.T) {
			c := New(Options{Memory: 8 << 20, LargeMemory: 64 << 20})
			body := randomBody(1, 10<<20)
			if err := writeObject(t, c, "http://h/big", body, known); err != nil {
				t.Fatal(err)
			}
			req := newReq("GET", "http://h/big")
			var sum [32]byte
			var ref *Ref
			d := c.Lookup(AppendKey(nil, req), req, t0, func(h Hit, d Decision) {
				if h.Body != nil || h.Large == nil || h.Size != int64(len(body)) {
					panic(fmt.Sprintf("hit: body %d, large %v, size %d", len(h.Body), h.Large != nil, h.Size))
				}
				h.Large.Retain()
				ref = h.Large
			})
			if d != Fresh {
				t.Fatalf("got %v, want fresh", d)
			}
			hash := sha256.New()
			for off := int64(0); off < ref.Size(); {
				chunk := ref.Chunk(off)
				hash.Write(chunk)
				off += int64(len(chunk))
			}
			ref.Release()
			copy(sum[:], hash.Sum(nil))
			if sum != sha256.Sum256(body) {
				t.Fatal("SHA-256 of the stored body differs")
			}
			if s := c.Stats(); s.LargeObjects != 1 || s.LargeBytes < int64(len(body)) || s.LargePinnedBytes != 0 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

func TestLargeEvictionUnderRefs(t *testing.T) {
	c := New(Options{Memory: 8 << 20, LargeMemory: 20 << 20})
	pinned := randomBody(7, 5<<20)
	if err := writeObject(t, c, "http://h/pinned", pinned, true); err != nil {
		t.Fatal(err)
	}
	req := newReq("GET", "http://h/pinned")
	var ref *Ref
	c.Lookup(AppendKey(nil, req), req, t0, func(h Hit, d Decision) {
		h.Large.Retain()
		ref = h.Large
	})
	if ref == nil {
		t.Fatal("pinned object not found")
	}
	// Churn 100 MiB of other objects through the 20 MiB tier.
	for i := 0; i < 50; i++ {
		if err := writeObject(t, c, fmt.Sprintf("http://h/churn/%d", i), make([]byte, 2<<20), true); err != nil {
			t.Fatal(err)
		}
		if s := c.Stats(); s.LargeBytes > 20<<20 {
			t.Fatalf("tier L holds %d bytes, over its 20 MiB bound", s.LargeBytes)
		}
	}
	if g := get(c, req, t0); g.d != Miss {
		t.Fatalf("pinned object still findable after churn: %v", g.d)
	}
	s := c.Stats()
	if s.LargePinnedBytes != int64(len(pinned)) || s.LargeEvictions < 40 {
		t.Fatalf("stats %+v: want %d pinned bytes and many evictions", s, len(pinned))
	}
	got := make([]byte, ref.Size())
	if _, err := ref.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got) != sha256.Sum256(pinned) {
		t.Fatal("a referenced body changed while evicted")
	}
	ref.Release()
	if s := c.Stats(); s.LargePinnedBytes != 0 || s.LargeBytes > 20<<20-int64(len(pinned)) {
		t.Fatalf("after release: %+v", s)
	}
}

func TestLargeNoSpaceWhenAllPinned(t *testing.T) {
	c := New(Options{Memory: 8 << 20, LargeMemory: 4 << 20})
	if err := writeObject(t, c, "http://h/a", randomBody(1, 3<<20), true); err != nil {
		t.Fatal(err)
	}
	req := newReq("GET", "http://h/a")
	var ref *Ref
	c.Lookup(AppendKey(nil, req), req, t0, func(h Hit, d Decision) { h.Large.Retain(); ref = h.Large })
	if err := writeObject(t, c, "http://h/b", randomBody(2, 3<<20), true); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("got %v, want %v", err, ErrNoSpace)
	}
	ref.Release()
	if err := writeObject(t, c, "http://h/b", randomBody(2, 3<<20), true); err != nil {
		t.Fatalf("after release: %v", err)
	}
}

func TestLargeDoubleReleasePanics(t *testing.T) {
	c := New(Options{Memory: 8 << 20, LargeMemory: 4 << 20})
	if err := writeObject(t, c, "http://h/a", randomBody(1, 1<<20), true); err != nil {
		t.Fatal(err)
	}
	req := newReq("GET", "http://h/a")
	var ref *Ref
	c.Lookup(AppendKey(nil, req), req, t0, func(h Hit, d Decision) { h.Large.Retain(); ref = h.Large })
	ref.Release()
	defer func() {
		if recover() == nil {
			t.Fatal("second Release did not panic")
		}
	}()
	ref.Release()
}

func TestLargeMetadataOutlivesBody(t *testing.T) {
	c := New(Options{Memory: 8 << 20, LargeMemory: 4 << 20})
	if err := writeObject(t, c, "http://h/a", randomBody(1, 3<<20), true); err != nil {
		t.Fatal(err)
	}
	if err := writeObject(t, c, "http://h/b", randomBody(2, 3<<20), true); err != nil {
		t.Fatal(err)
	}
	// a's body was evicted for b: its freecache entry is now a miss and is
	// deleted.
	if g := get(c, newReq("GET", "http://h/a"), t0); g.d != Miss {
		t.Fatalf("got %v, want miss", g.d)
	}
	if g := get(c, newReq("GET", "http://h/b"), t0); g.d != Fresh || g.etag != `"big"` {
		t.Fatalf("got %v, want fresh", g.d)
	}
}
