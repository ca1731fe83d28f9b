package main

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
)

// PrefetchHeader marks a request the proxy makes on its own to prefetch a
// URL; the engine sets it to "1".
const PrefetchHeader = "X-Edgeproxy-Prefetch"

// origin is the synthetic origin: it serves every path of the log with its
// logged size and counts what it served.
type origin struct {
	sizes map[string]int64 // request URI → body size; read-only once serving
	seq   *atomic.Int64    // the replay's request sequence, read at prefetch time

	requests, bytes, notFound atomic.Int64

	mu         sync.Mutex // protects prefetches
	prefetches []prefetchRecord
}

// prefetchRecord is one request that carried PrefetchHeader.
type prefetchRecord struct {
	path  string
	seq   int64 // client requests sent when it arrived
	bytes int64
}

// filler is the body of every response, written as many times as needed.
var filler = func() []byte {
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return b
}()

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.requests.Add(1)
	seq := o.seq.Load()
	size, ok := o.sizes[r.URL.RequestURI()]
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		o.notFound.Add(1)
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	h.Set("Cache-Control", "max-age=3600")
	h.Set("Last-Modified", "Thu, 01 Jan 2026 00:00:00 GMT")
	w.WriteHeader(http.StatusOK)
	var n int64
	if r.Method == http.MethodGet {
		for n < size {
			m, err := w.Write(filler[:min(int64(len(filler)), size-n)])
			n += int64(m)
			if err != nil {
				break
			}
		}
	}
	o.bytes.Add(n)
	if r.Header.Get(PrefetchHeader) == "1" {
		o.mu.Lock()
		o.prefetches = append(o.prefetches, prefetchRecord{r.URL.RequestURI(), seq, n})
		o.mu.Unlock()
	}
}

// startOrigin serves o on a fresh 127.0.0.1 port and returns its listener.
func startOrigin(o *origin) (net.Listener, *http.Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	srv := &http.Server{Handler: o}
	go srv.Serve(ln)
	return ln, srv, nil
}
