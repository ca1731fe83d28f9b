package engine

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"edgeproxy/engine/config"
)

// Issue 17: under cache.policy edge (the default), once tier L is full a
// one-time 3 MiB download is passed on but not stored, and the popular
// objects it would have pushed out stay hits.
func TestCachePolicyEdgeKeepsPopularObjects(t *testing.T) {
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Cache-Control", "max-age=600")
		n := 1 << 20
		if r.URL.Path == "/download.iso" {
			n = 3 << 20
		}
		w.Header().Set("Content-Length", strconv.Itoa(n))
		_, _ = w.Write(patternBody(n, 7))
	})
	s := startProxy(t, func(c *config.Config) {
		c.Cache.Memory = config.MiB
		c.Cache.LargeMemory = 4 * config.MiB
		c.Cache.MaxObject = 4 * config.MiB
	})
	popular := []string{o.URL + "/a.js", o.URL + "/b.js", o.URL + "/c.js"}
	for range 4 {
		for _, u := range popular {
			cacheGet(t, s, u)
		}
	}
	for _, u := range popular {
		wantHit(t, mustGet(t, s, u), u+" before the download")
	}
	resp := mustGet(t, s, o.URL+"/download.iso")
	if strings.Contains(resp.Header.Get("Cache-Status"), "stored") {
		t.Errorf("the download was stored: Cache-Status %q", resp.Header.Get("Cache-Status"))
	}
	for _, u := range popular {
		wantHit(t, mustGet(t, s, u), u+" after the download")
	}
	if st := s.cache.Stats(); st.LargeRefused < 1 || st.LargeObjects != 3 {
		t.Errorf("stats %+v: want the download refused and the 3 popular objects kept", st)
	}
}
