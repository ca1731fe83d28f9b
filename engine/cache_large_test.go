package engine

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"edgeproxy/engine/config"
)

// largeOrigin serves body with a Content-Length, or chunked when chunked is
// set, cacheable for a minute.
func largeOrigin(t *testing.T, body []byte, chunked bool) *countingOrigin {
	return startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Content-Type", "application/octet-stream")
		if !chunked {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body)
			return
		}
		for b := body; len(b) > 0; {
			k := min(len(b), 100<<10)
			_, _ = w.Write(b[:k])
			w.(http.Flusher).Flush()
			b = b[k:]
		}
	})
}

// A 10 MiB object goes to tier L and comes back intact from the cache,
// whole and as ranges, including one across a 256 KiB chunk boundary.
func TestCacheLargeObject(t *testing.T) {
	body := patternBody(10<<20, 1)
	sum := sha256.Sum256(body)
	o := largeOrigin(t, body, false)
	s := startProxy(t, nil)
	u := o.URL + "/large"

	resp, got := cacheGet(t, s, u)
	if resp.StatusCode != 200 || sha256.Sum256([]byte(got)) != sum {
		t.Fatalf("miss: got %d with %d bytes, want 200 with the %d-byte object", resp.StatusCode, len(got), len(body))
	}
	resp, got = cacheGet(t, s, u)
	wantHit(t, resp, "second GET")
	if sha256.Sum256([]byte(got)) != sum {
		t.Errorf("hit: %d bytes, SHA-256 differs from the origin's %d bytes", len(got), len(body))
	}
	if resp.ContentLength != int64(len(body)) {
		t.Errorf("hit Content-Length: got %d, want %d", resp.ContentLength, len(body))
	}
	ageOf(t, resp)

	for _, r := range [][2]int{{5000000, 5000099}, {262100, 262200}, {0, 0}, {len(body) - 10, len(body) - 1}} {
		resp, got := cacheGet(t, s, u, fmt.Sprintf("Range: bytes=%d-%d", r[0], r[1]))
		if resp.StatusCode != 206 || got != string(body[r[0]:r[1]+1]) {
			t.Errorf("range %v: got %d with %d bytes, want 206 with the %d bytes", r, resp.StatusCode, len(got), r[1]-r[0]+1)
		}
		if want := fmt.Sprintf("bytes %d-%d/%d", r[0], r[1], len(body)); resp.Header.Get("Content-Range") != want {
			t.Errorf("range %v: Content-Range %q, want %q", r, resp.Header.Get("Content-Range"), want)
		}
	}
	rc := dialRaw(t, s)
	rc.send(cacheRequest("HEAD", u))
	if resp := rc.response("HEAD"); resp.ContentLength != int64(len(body)) || !isHit(resp) {
		t.Errorf("HEAD: Content-Length %d X-Cache %q", resp.ContentLength, resp.Header.Get("X-Cache"))
	}
	wantOrigin(t, o, 1, "GETs, ranges and HEAD of a stored large object")
}

// Range answers from tier L are streamed by workers. Many connections on
// one event loop asking for different ranges at once must each get their
// own bytes.
func TestCacheLargeRangesConcurrent(t *testing.T) {
	body := patternBody(4<<20, 2)
	o := largeOrigin(t, body, false)
	s := startProxy(t, func(c *config.Config) { c.EventLoops = 1 })
	u := o.URL + "/ranges"
	if _, got := cacheGet(t, s, u); len(got) != len(body) {
		t.Fatalf("miss: got %d bytes", len(got))
	}

	const clients = 40
	conns := make([]net.Conn, clients)
	for i := range conns {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		conns[i] = c
	}
	start := make(chan struct{})
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for i, c := range conns {
		lo := i * 100003
		hi := lo + 1000 + i*517
		wg.Go(func() {
			<-start
			if _, err := io.WriteString(c, cacheRequest("GET", u, fmt.Sprintf("Range: bytes=%d-%d", lo, hi))); err != nil {
				errs <- err
				return
			}
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				errs <- fmt.Errorf("range %d-%d: %v", lo, hi, err)
				return
			}
			got, err := io.ReadAll(resp.Body)
			switch {
			case err != nil:
				errs <- fmt.Errorf("range %d-%d: body: %v", lo, hi, err)
			case resp.StatusCode != 206 || string(got) != string(body[lo:hi+1]):
				// Say where the bytes sent came from: another client's range
				// shows that the plan was shared.
				from := -1
				if len(got) >= 64 {
					from = bytes.Index(body, got[:64])
				}
				errs <- fmt.Errorf("range %d-%d: got %d with %d bytes (Content-Range %q) taken from offset %d, want 206 with %d bytes from offset %d",
					lo, hi, resp.StatusCode, len(got), resp.Header.Get("Content-Range"), from, hi-lo+1, lo)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	wrong := 0
	for err := range errs {
		if wrong++; wrong <= 3 {
			t.Error(err)
		}
	}
	if wrong > 3 {
		t.Errorf("%d of %d range answers were wrong", wrong, clients)
	}
	wantOrigin(t, o, 1, "")
}

// An object larger than cache.max_object is relayed whole but not stored,
// whether its length is announced or not.
func TestCacheMaxObject(t *testing.T) {
	body := patternBody(2<<20, 4)
	sum := sha256.Sum256(body)
	s := startProxy(t, func(c *config.Config) { c.Cache.MaxObject = config.MiB })
	for _, chunked := range []bool{false, true} {
		t.Run("chunked="+strconv.FormatBool(chunked), func(t *testing.T) {
			o := largeOrigin(t, body, chunked)
			u := o.URL + "/too-large"
			for i := range 2 {
				resp, got := cacheGet(t, s, u)
				if resp.StatusCode != 200 || sha256.Sum256([]byte(got)) != sum {
					t.Fatalf("GET %d: got %d with %d bytes, want the whole %d-byte object", i+1, resp.StatusCode, len(got), len(body))
				}
				if isHit(resp) {
					t.Errorf("GET %d: X-Cache %q, want a miss", i+1, resp.Header.Get("X-Cache"))
				}
			}
			wantOrigin(t, o, 2, "two GETs of an object over max_object")
		})
	}
}
