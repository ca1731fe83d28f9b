package engine

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"edgeproxy/engine/config"
)

// Issue 17: after heavy small-object churn, large objects stored by the
// proxy are still hits (or freed at once, never counted while unreachable),
// and a refetch does not store a second copy.
func TestCacheLargeObjectsSurviveSmallChurn(t *testing.T) {
	const (
		objects = 100
		size    = 16 << 10
		churn   = 6000
	)
	large := strings.Repeat("L", size)
	small := strings.Repeat("s", 600)
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		body := small
		if strings.HasPrefix(r.URL.Path, "/large/") {
			body = large
		}
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write([]byte(body))
	})
	s := startProxy(t, func(c *config.Config) {
		c.Cache.Memory = config.MiB
		c.Cache.LargeMemory = 8 * config.MiB
		c.Cache.MaxObject = config.MiB
	})
	fetchAll := func(prefix string, n int, want string) (hits int) {
		rc := dialRaw(t, s)
		for i := range n {
			rc.send(cacheRequest("GET", fmt.Sprintf("%s/%s/%d", o.URL, prefix, i)))
			resp := rc.response("GET")
			if got := bodyOf(t, resp); got != want {
				t.Fatalf("%s/%d: got %d bytes, want %d", prefix, i, len(got), len(want))
			}
			if isHit(resp) {
				hits++
			}
		}
		return hits
	}
	storedAll := func(n int64) bool {
		return eventually(10e9, func() bool { st := s.cache.Stats(); return st.Stores >= n && st.Inflight == 0 })
	}
	fetchAll("large", objects, large)
	if !storedAll(objects) {
		t.Fatalf("stored %d objects, want %d", s.cache.Stats().Stores, objects)
	}
	if got := fetchAll("large", objects, large); got != objects {
		t.Fatalf("before churn: got %d hits, want %d", got, objects)
	}
	before := s.cache.Stats()
	perObject := before.LargeBytes / objects

	fetchAll("small", churn, small)
	if !storedAll(objects) {
		t.Fatalf("fills still in flight: %+v", s.cache.Stats())
	}
	if st := s.cache.Stats(); st.SmallEvictions < 3*before.SmallEntries {
		t.Fatalf("churn evicted %d freecache entries of %d: not enough to test anything", st.SmallEvictions, before.SmallEntries)
	}
	st := s.cache.Stats()
	hits := fetchAll("large", objects, large)
	if hits != int(st.LargeObjects) || st.LargeBytes != int64(hits)*perObject {
		t.Fatalf("after churn: %d hits, but tier L counts %d objects and %d bytes (want %d bytes)", hits, st.LargeObjects, st.LargeBytes, int64(hits)*perObject)
	}
	if !storedAll(st.Stores + int64(objects-hits)) {
		t.Fatalf("refetches: stored %d objects, want %d", s.cache.Stats().Stores, st.Stores+int64(objects-hits))
	}
	if st := s.cache.Stats(); st.LargeObjects != objects || st.LargeBytes != objects*perObject {
		t.Fatalf("after refetching: tier L counts %d objects and %d bytes, want %d and %d", st.LargeObjects, st.LargeBytes, objects, objects*perObject)
	}
	if got := fetchAll("large", objects, large); got != objects {
		t.Fatalf("after refetching: got %d hits, want %d", got, objects)
	}
}
