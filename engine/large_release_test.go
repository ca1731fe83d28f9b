package engine

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"edgeproxy/engine/config"
)

// A tier-L hit is streamed by a worker, which releases the object when it
// is done. When no worker can be had, the hit is answered 503 on the loop,
// and the reference it took must be released there: otherwise the object's
// bytes stay pinned in tier L after it is purged, forever.
func TestLargeHitRefusedReleasesItsReference(t *testing.T) {
	big := strings.Repeat("L", 1<<20) // over tier S's largest entry
	hold, held := make(chan struct{}), make(chan struct{}, 1)
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case "/warm":
			_, _ = w.Write([]byte("warm"))
			return
		case "/slow":
			held <- struct{}{}
			<-hold
			w.Header().Set("Cache-Control", "no-store")
			_, _ = w.Write([]byte("body of /slow"))
			return
		}
		w.Header().Set("Cache-Control", "max-age=600")
		_, _ = w.Write([]byte(big))
	})
	s := startProxy(t, func(c *config.Config) {
		c.Workers = 1
		c.Limits.MaxWorkersPerClient = 1
		c.EventLoops = 1
	})
	// An idle origin connection in the loop's pool, so that the fill of
	// /big needs no dial: its body's pump takes the only worker, which a
	// dial could still hold.
	cacheGet(t, s, o.URL+"/warm")
	u := o.URL + "/big"
	if _, body := cacheGet(t, s, u); body != big {
		t.Fatalf("filling /big: got %d bytes", len(body))
	}
	if resp, _ := cacheGet(t, s, u); resp.StatusCode != 200 {
		t.Fatalf("hit: got %d", resp.StatusCode)
	}

	// The only worker waits on /slow for another client: a streamed
	// upload, which a worker relays (issue 12: GET misses run on the loop).
	done := make(chan struct{})
	go func() {
		defer close(done)
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 5 * time.Second}
		c, err := d.Dial("tcp", s.Addr())
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.WriteString(c, "POST "+o.URL+"/slow HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
		_, _ = http.ReadResponse(bufio.NewReader(c), nil)
	}()
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("the origin never saw /slow")
	}
	if resp, _ := cacheGet(t, s, u); resp.StatusCode != 503 {
		t.Fatalf("hit with no worker free: got %d, want 503", resp.StatusCode)
	}
	close(hold)
	<-done

	if resp, _ := cacheDo(t, s, "PURGE", u, ""); resp.StatusCode != 200 {
		t.Fatalf("PURGE: got %d", resp.StatusCode)
	}
	if !eventually(5*time.Second, func() bool {
		st := s.cache.Stats()
		return st.LargePinnedBytes == 0 && st.LargeBytes == 0
	}) {
		st := s.cache.Stats()
		t.Fatalf("after PURGE: tier L holds %d bytes, %d of them pinned; want 0", st.LargeBytes, st.LargePinnedBytes)
	}
}
