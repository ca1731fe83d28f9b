package engine

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// How truncatingOrigin cuts its first response short.
const (
	cutLength     = "content-length"         // Content-Length 100000, close after 50000 bytes
	cutChunkEdge  = "chunked between chunks" // five whole chunks, close where a chunk-size line is due
	cutChunkInner = "chunked inside a chunk" // close in the middle of a chunk's data
)

// truncatingOrigin cuts its first response short as cut says. Later
// requests get the whole object.
func truncatingOrigin(t *testing.T, body []byte, cut string) *countingOrigin {
	return startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n > 1 {
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body)
			return
		}
		c, bw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		switch cut {
		case cutLength:
			fmt.Fprintf(bw, "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: %d\r\n\r\n", len(body))
			_, _ = bw.Write(body[:50000])
		case cutChunkEdge, cutChunkInner:
			fmt.Fprintf(bw, "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nTransfer-Encoding: chunked\r\n\r\n")
			for off := 0; off < 50000; off += 10000 {
				fmt.Fprintf(bw, "%x\r\n%s\r\n", 10000, body[off:off+10000])
			}
			if cut == cutChunkInner {
				fmt.Fprintf(bw, "%x\r\n%s", 10000, body[50000:55000])
			}
		}
		_ = bw.Flush()
	})
}

// RFC 9112 §8 and RFC 9111 §3.3: a response cut short by the origin reaches
// the client as a truncated message (the connection closes before the
// announced end, or without the last chunk), and the cache never uses it as
// a complete response: the next GET goes to the origin.
func TestRFC9111_3_3_IncompleteNotStored(t *testing.T) {
	body := patternBody(100000, 5)
	s := startProxy(t, nil)
	for _, cut := range []string{cutLength, cutChunkEdge, cutChunkInner} {
		t.Run(cut, func(t *testing.T) {
			o := truncatingOrigin(t, body, cut)
			u := o.URL + "/cut"

			resp, got, err := cacheGetErr(t, s, u)
			switch {
			case resp == nil:
				t.Fatalf("first GET: no response head: %v", err)
			case resp.StatusCode == 200 && err == nil:
				t.Errorf("first GET: the client got a complete-looking %d-byte body (X-Cache %q), want a truncated message",
					len(got), resp.Header.Get("X-Cache"))
			case resp.StatusCode == 200:
				if len(got) > 55000 || !bytes.Equal(got, body[:len(got)]) {
					t.Errorf("first GET: %d bytes that are not a prefix of what the origin sent", len(got))
				}
			default:
				t.Logf("first GET answered %d before any body byte", resp.StatusCode)
			}

			resp, got, err = cacheGetErr(t, s, u)
			if resp == nil {
				t.Fatalf("second GET: no response: %v", err)
			}
			if isHit(resp) {
				t.Errorf("second GET: X-Cache %q with %d bytes: the truncated response was stored and served", resp.Header.Get("X-Cache"), len(got))
			}
			wantOrigin(t, o, 2, "second GET after a truncated response")
			if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, body) {
				t.Fatalf("second GET: %v, %d with %d bytes, want the whole %d-byte object", err, resp.StatusCode, len(got), len(body))
			}

			resp, got, _ = cacheGetErr(t, s, u)
			if resp == nil || !isHit(resp) || !bytes.Equal(got, body) {
				t.Errorf("third GET: %d bytes, want the whole object from the cache", len(got))
			}
			wantOrigin(t, o, 2, "third GET")
		})
	}
}

// Followers of a collapsed fetch that the origin cuts short see the
// truncation too, and nothing is stored.
func TestCacheCollapsedTruncated(t *testing.T) {
	body := patternBody(100000, 6)
	gate := make(chan struct{})
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		<-gate
		c, bw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprintf(bw, "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: %d\r\n\r\n", len(body))
		_, _ = bw.Write(body[:50000])
		_ = bw.Flush()
	})
	s := startProxy(t, nil)
	u := o.URL + "/cut-collapsed"

	const clients = 5
	type result struct {
		status   int
		n        int
		complete bool
		headErr  error
	}
	results := make(chan result, clients)
	for range clients {
		go func() {
			resp, got, err := rawGet(s.Addr(), u)
			if resp == nil {
				results <- result{headErr: err}
				return
			}
			results <- result{status: resp.StatusCode, n: len(got), complete: err == nil}
		}()
	}
	// Let the requests reach the proxy before the origin answers; a late
	// one fetches for itself and meets the same truncation.
	if !eventually(3*time.Second, func() bool { return o.count() >= 1 }) {
		close(gate)
		t.Fatal("no request reached the origin")
	}
	time.Sleep(200 * time.Millisecond)
	close(gate)
	for range clients {
		r := <-results
		if r.headErr == nil && r.status == 200 && r.complete {
			t.Errorf("a client got a complete 200 with %d bytes from a truncated origin response", r.n)
		}
	}
	resp, _, _ := cacheGetErr(t, s, u)
	if resp != nil && isHit(resp) {
		t.Error("a truncated response was stored")
	}
}
