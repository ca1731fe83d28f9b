package cache

import (
	"fmt"
	"strings"
	"testing"
)

// Issue 17: a tier-L body was found only through its index entry in
// freecache, which freecache dropped silently under small-object churn: the
// body stayed in tier L, counted and unreachable, and a refetch stored a
// second copy. An index entry and its body must live and die together.
func TestLargeSurvivesSmallChurn(t *testing.T) {
	const (
		objects = 100
		size    = 16 << 10
	)
	c := New(Options{Memory: 1 << 20, LargeMemory: 8 << 20})
	large := func(i int) string { return fmt.Sprintf("http://h/large/%d", i) }
	body := strings.Repeat("L", size)
	for i := range objects {
		put(t, c, newReq("GET", large(i)), resp{headers: []string{"Cache-Control", "max-age=600"}, body: body})
	}
	before := c.Stats()
	if before.LargeObjects != objects {
		t.Fatalf("got %d tier-L objects after storing, want %d", before.LargeObjects, objects)
	}
	perObject := before.LargeBytes / objects

	// Small objects whose entries together are many times freecache's size.
	small := strings.Repeat("s", 600)
	for i := range 40000 {
		put(t, c, newReq("GET", fmt.Sprintf("http://h/small/%d", i)), resp{headers: []string{"Cache-Control", "max-age=600"}, body: small})
	}
	if s := c.Stats(); s.SmallEvictions < 4*before.SmallEntries {
		t.Fatalf("churn evicted %d freecache entries of %d: not enough to test anything", s.SmallEvictions, before.SmallEntries)
	}

	hits := 0
	for i := range objects {
		g := get(c, newReq("GET", large(i)), t0)
		switch {
		case g.d == Fresh && g.body == body:
			hits++
		case g.d != Miss:
			t.Fatalf("%s: got %v with %d bytes, want a fresh hit of %d bytes or a miss", large(i), g.d, len(g.body), size)
		}
	}
	s := c.Stats()
	if s.LargeObjects != int64(hits) || s.LargeBytes != int64(hits)*perObject {
		t.Fatalf("got %d tier-L objects and %d bytes with %d reachable, want %d and %d",
			s.LargeObjects, s.LargeBytes, hits, hits, int64(hits)*perObject)
	}

	// Refetching every object stores each once.
	for i := range objects {
		put(t, c, newReq("GET", large(i)), resp{headers: []string{"Cache-Control", "max-age=600"}, body: body})
	}
	s = c.Stats()
	if s.LargeObjects != objects || s.LargeBytes != objects*perObject {
		t.Fatalf("after refetching: got %d tier-L objects and %d bytes, want %d and %d",
			s.LargeObjects, s.LargeBytes, objects, objects*perObject)
	}
	for i := range objects {
		if g := get(c, newReq("GET", large(i)), t0); g.d != Fresh || g.body != body {
			t.Fatalf("%s after refetching: got %v with %d bytes, want a fresh hit", large(i), g.d, len(g.body))
		}
	}
}

// Issue 17: a Vary record lost to freecache's churn must not strand the
// URL's tier-L variants either.
func TestLargeVariantSurvivesSmallChurn(t *testing.T) {
	c := New(Options{Memory: 1 << 20, LargeMemory: 8 << 20})
	body := strings.Repeat("V", 16<<10)
	hdr := []string{"Cache-Control", "max-age=600", "Vary", "Accept-Encoding"}
	gz := newReq("GET", "http://h/v", "Accept-Encoding", "gzip")
	put(t, c, gz, resp{headers: hdr, body: body})
	small := strings.Repeat("s", 600)
	for i := range 20000 {
		put(t, c, newReq("GET", fmt.Sprintf("http://h/small/%d", i)), resp{headers: []string{"Cache-Control", "max-age=600"}, body: small})
	}
	if g := get(c, gz, t0); g.d != Fresh || g.body != body {
		t.Fatalf("got %v with %d bytes, want a fresh hit", g.d, len(g.body))
	}
	if g := get(c, newReq("GET", "http://h/v", "Accept-Encoding", "br"), t0); g.d != Miss {
		t.Fatalf("other variant: got %v, want miss", g.d)
	}
	put(t, c, gz, resp{headers: hdr, body: body})
	if s := c.Stats(); s.LargeObjects != 1 {
		t.Fatalf("after refetching: got %d tier-L objects, want 1", s.LargeObjects)
	}
	if !c.Invalidate(AppendKey(nil, gz)) {
		t.Fatal("Invalidate found nothing")
	}
	if s := c.Stats(); s.LargeObjects != 0 || s.LargeBytes != 0 {
		t.Fatalf("after Invalidate: got %d tier-L objects and %d bytes, want none", s.LargeObjects, s.LargeBytes)
	}
}
