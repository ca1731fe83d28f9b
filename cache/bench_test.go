package cache

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coocood/freecache"

	"edgeproxy/codec"
)

// fixture is a realistic lookup: a browser-like request and a stored 1 KiB
// response.
type fixture struct {
	c   *Cache
	req *codec.Request
	key []byte
	now time.Time
}

func newFixture(tb testing.TB, url string, vary bool) *fixture {
	c := New(Options{Memory: 64 << 20})
	req := newReq("GET", url,
		"Host", "example.com",
		"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
		"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
		"Accept-Encoding", "gzip, deflate, br",
		"Accept-Language", "en-US,en;q=0.9",
	)
	h := []string{"Date", httpDate(t0), "Content-Type", "text/html; charset=utf-8", "Cache-Control", "public, max-age=3600",
		"ETag", `"5f3c-1a2b"`, "Last-Modified", httpDate(t0.Add(-time.Hour)), "Server", "origin"}
	if vary {
		h = append(h, "Vary", "Accept-Encoding, Accept-Language")
	}
	put(tb, c, req, resp{headers: h, body: strings.Repeat("x", 1024)})
	return &fixture{c: c, req: req, key: AppendKey(make([]byte, 0, 256), req), now: t0.Add(time.Minute)}
}

// sink keeps the callback's work from being optimised away.
var sink int

func (f *fixture) lookup() Decision {
	return f.c.Lookup(f.key, f.req, f.now, func(h Hit, d Decision) {
		sink += len(h.Body) + len(h.Header)
		if NotModified(f.req, &h) {
			sink++
		}
	})
}

func TestLookupAllocatesNothing(t *testing.T) {
	for _, tt := range []struct {
		name string
		vary bool
	}{{"fresh tier-S hit", false}, {"Vary hit", true}} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "http://example.com/index.html", tt.vary)
			if d := f.lookup(); d != Fresh {
				t.Fatalf("got %v, want fresh", d)
			}
			if n := testing.AllocsPerRun(1000, func() { f.lookup() }); n != 0 {
				t.Fatalf("got %v allocations per lookup, want 0", n)
			}
		})
	}
	t.Run("miss", func(t *testing.T) {
		f := newFixture(t, "http://example.com/index.html", false)
		miss := AppendKey(nil, newReq("GET", "http://example.com/other"))
		if n := testing.AllocsPerRun(1000, func() { f.c.Lookup(miss, f.req, f.now, func(Hit, Decision) {}) }); n != 0 {
			t.Fatalf("got %v allocations per miss, want 0", n)
		}
	})
	t.Run("tier-L hit", func(t *testing.T) {
		f := newFixture(t, "http://example.com/index.html", false)
		if err := writeObject(t, f.c, "http://example.com/big", randomBody(1, 1<<20), true); err != nil {
			t.Fatal(err)
		}
		big := AppendKey(nil, newReq("GET", "http://example.com/big"))
		if n := testing.AllocsPerRun(1000, func() { f.c.Lookup(big, f.req, f.now, func(h Hit, d Decision) { sink += int(h.Large.Size()) }) }); n != 0 {
			t.Fatalf("got %v allocations per lookup, want 0", n)
		}
	})
}

func BenchmarkLookupHit(b *testing.B) {
	f := newFixture(b, "http://example.com/index.html", false)
	b.ReportAllocs()
	for b.Loop() {
		f.lookup()
	}
}

func BenchmarkLookupHitParallel(b *testing.B) {
	f := newFixture(b, "http://example.com/index.html", false)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		n := 0
		for pb.Next() {
			n += int(f.c.Lookup(f.key, f.req, f.now, func(h Hit, d Decision) { n += len(h.Body) }))
		}
	})
}

func BenchmarkLookupMiss(b *testing.B) {
	f := newFixture(b, "http://example.com/index.html", false)
	miss := AppendKey(nil, newReq("GET", "http://example.com/other"))
	b.ReportAllocs()
	for b.Loop() {
		f.c.Lookup(miss, f.req, f.now, func(Hit, Decision) {})
	}
}

func BenchmarkLookupVary(b *testing.B) {
	f := newFixture(b, "http://example.com/index.html", true)
	b.ReportAllocs()
	for b.Loop() {
		f.lookup()
	}
}

// BenchmarkBaselineSyncMap is the floor the lookups compare with: a sync.Map
// of 1 KiB bodies, loaded by a precomputed string key, with no HTTP rules.
func BenchmarkBaselineSyncMap(b *testing.B) {
	var m sync.Map
	key := "http://example.com/index.html"
	m.Store(key, []byte(strings.Repeat("x", 1024)))
	b.ReportAllocs()
	for b.Loop() {
		v, _ := m.Load(key)
		sink += len(v.([]byte))
	}
}

// BenchmarkBaselineMutexMap is a map[string][]byte under a mutex, indexed by
// the []byte key the engine holds.
func BenchmarkBaselineMutexMap(b *testing.B) {
	var mu sync.Mutex
	m := map[string][]byte{"http://example.com/index.html": []byte(strings.Repeat("x", 1024))}
	key := []byte("http://example.com/index.html")
	b.ReportAllocs()
	for b.Loop() {
		mu.Lock()
		sink += len(m[string(key)])
		mu.Unlock()
	}
}

func BenchmarkCommitSmall(b *testing.B) {
	c := New(Options{Memory: 64 << 20})
	req := newReq("GET", "http://example.com/s")
	key := AppendKey(nil, req)
	body := []byte(strings.Repeat("x", 1024))
	m := resp{headers: []string{"Cache-Control", "max-age=60", "Content-Type", "text/plain"}, body: string(body)}.meta()
	b.ReportAllocs()
	for b.Loop() {
		w := c.NewWriter(key, req, m)
		w.Write(body)
		if err := w.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineFreecacheGetFn is freecache alone: a GetFn hit on the same
// 1 KiB value, with freecache's default timer (time.Now per access).
func BenchmarkBaselineFreecacheGetFn(b *testing.B) {
	fc := freecache.NewCache(64 << 20)
	key := []byte("http://example.com/index.html")
	fc.Set(key, []byte(strings.Repeat("x", 1024)), 0)
	b.ReportAllocs()
	for b.Loop() {
		_ = fc.GetFn(key, func(v []byte) error { sink += len(v); return nil })
	}
}
