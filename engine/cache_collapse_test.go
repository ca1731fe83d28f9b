package engine

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// RFC 9111 §4 (collapsed requests): concurrent misses for one URL share a
// single origin fetch, and every client gets the whole body.
func TestCacheCollapsedForwarding(t *testing.T) {
	body := patternBody(200<<10, 8)
	sum := sha256.Sum256(body)
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		time.Sleep(300 * time.Millisecond)
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	s := startProxy(t, nil)
	u := o.URL + "/collapsed"

	const clients = 100
	start := make(chan struct{})
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			<-start
			resp, got, err := rawGet(s.Addr(), u)
			switch {
			case err != nil:
				errs <- err
			case resp.StatusCode != 200 || sha256.Sum256(got) != sum:
				errs <- fmt.Errorf("got %d with %d bytes (X-Cache %q), want 200 with the %d-byte object",
					resp.StatusCode, len(got), resp.Header.Get("X-Cache"), len(body))
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	wantOrigin(t, o, 1, "100 concurrent GETs of one uncached URL")
}
