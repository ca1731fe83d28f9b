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

// Issue 12: a 206 to a Range request is not stored, but it says nothing of
// the URL's whole response: the plain GET after it is stored, and the next
// is a hit. (On one loop, so that the memo of the first answer is the one
// the later requests consult.)
func TestPartialResponseDoesNotMarkURLUncacheable(t *testing.T) {
	full := "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Cache-Control", "max-age=60")
		if r.Header.Get("Range") == "bytes=0-9" {
			w.Header().Set("Content-Range", "bytes 0-9/62")
			w.WriteHeader(http.StatusPartialContent)
			_, _ = io.WriteString(w, full[:10])
			return
		}
		_, _ = io.WriteString(w, full)
	})
	s := startProxy(t, func(c *config.Config) { c.EventLoops = 1 })
	u := o.URL + "/partial"
	if resp, got := cacheGet(t, s, u, "Range: bytes=0-9"); resp.StatusCode != 206 || got != full[:10] {
		t.Fatalf("Range GET: got %d %q, want 206 %q", resp.StatusCode, got, full[:10])
	}
	resp, _ := cacheGet(t, s, u)
	wantMiss(t, resp, "plain GET after a 206")
	resp, got := cacheGet(t, s, u)
	if got != full {
		t.Fatalf("third GET: got %q, want %q", got, full)
	}
	wantHit(t, resp, "third GET: the plain GET's response was stored")
	wantOrigin(t, o, 2, "Range GET, then one plain GET")
}
