package engine

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"edgeproxy/engine/config"
)

// Issue 12: concurrent misses for a URL the cache cannot store must not
// queue behind one another. Once a response said no-store, the next
// concurrent requests for the URL all reach the origin together: the origin
// here answers only when all of them have arrived (a barrier, with a hang
// guard), which collapsed forwarding, sending one and holding the rest,
// never lets happen.
func TestUncacheableMissesAreNotCollapsed(t *testing.T) {
	const n = 8
	var (
		mu      sync.Mutex
		arrived int
		all     = make(chan struct{})
		reached atomic.Bool
		waited  atomic.Bool // the hang guard fired: a request was held alone
		learn   atomic.Bool
	)
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !learn.Load() {
			mu.Lock()
			arrived++
			if arrived == n {
				reached.Store(true)
				close(all)
			}
			mu.Unlock()
			select {
			case <-all:
			case <-time.After(10 * time.Second): // hang guard only
				waited.Store(true)
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, "fresh every time")
	}))
	s := startProxy(t, func(c *config.Config) { c.EventLoops = 1 })
	client := proxyClient(s)
	url := origin + "/uncacheable"

	learn.Store(true)
	get := func() {
		resp, err := client.Get(url)
		if err != nil {
			t.Error(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "fresh every time" {
			t.Errorf("got %d %q, want 200 %q", resp.StatusCode, body, "fresh every time")
		}
	}
	get() // the proxy learns that the URL's responses are not stored
	learn.Store(false)

	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() { defer wg.Done(); get() }()
	}
	wg.Wait()
	if !reached.Load() || waited.Load() {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the origin saw %d of %d concurrent requests before giving up waiting, want all at once: misses for an uncacheable URL were held back", arrived, n)
	}
}
