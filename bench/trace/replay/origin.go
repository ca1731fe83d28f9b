package main

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
)

// PrefetchHeader marks a request the proxy makes on its own to prefetch a
// URL; the engine sets it to "1".
const PrefetchHeader = "X-Edgeproxy-Prefetch"

// lastModified is every object's Last-Modified; a logged 304 is replayed
// as a request conditional on it.
const lastModified = "Thu, 01 Jan 2026 00:00:00 GMT"

// origin is the synthetic origin: it answers each request URI with what
// the log says about it at that moment (the replayer sets it before each
// request), and counts what it served.
type origin struct {
	seq *atomic.Int64 // the replay's request sequence, read at prefetch time

	requests, bytes, notFound atomic.Int64

	mu         sync.Mutex         // protects the fields below
	current    map[string]request // request URI → the latest logged request for it
	prefetches []prefetchRecord
	pending    map[string]int64 // request URI → index in prefetches of a prefetch not yet used, +1
}

// prefetchRecord is one request that carried PrefetchHeader.
type prefetchRecord struct {
	path   string
	seq    int64 // client requests sent when it arrived
	bytes  int64
	useful bool // the next client request for path was a hit: used before evicted
}

// set records the logged answer to q's URI from now on.
func (o *origin) set(q request) {
	o.mu.Lock()
	o.current[q.path] = q
	o.mu.Unlock()
}

// used settles a pending prefetch of path when a client asks for it: it
// was useful if that answer was a hit (the prefetched copy was used before
// it was evicted), wasted otherwise.
func (o *origin) used(path string, _ int64, hit bool) {
	o.mu.Lock()
	if i := o.pending[path]; i > 0 {
		o.prefetches[i-1].useful = hit
		delete(o.pending, path)
	}
	o.mu.Unlock()
}

// filler is the body of every response, written as many times as needed.
var filler = func() []byte {
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return b
}()

// cacheableByDefault are the statuses RFC 9110 §15.1 lets a cache store
// without explicit freshness; the origin gives them max-age=3600 as it does
// a 200. Others get no freshness information.
var cacheableByDefault = map[int]bool{200: true, 203: true, 204: true, 206: true, 300: true, 301: true, 308: true, 404: true, 405: true, 410: true, 414: true, 501: true}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.requests.Add(1)
	seq := o.seq.Load()
	uri := r.RequestURI
	o.mu.Lock()
	q, ok := o.current[uri]
	o.mu.Unlock()
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		o.notFound.Add(1)
		http.NotFound(w, r)
		return
	}
	status, size := q.status, q.size
	h := w.Header()
	h.Set("Last-Modified", lastModified)
	h.Set("ETag", `"`+strconv.FormatInt(q.full, 10)+`"`)
	switch {
	case status == http.StatusNotModified && r.Header.Get("If-Modified-Since") == "" && r.Header.Get("If-None-Match") == "":
		// The proxy fetches the object the client revalidates.
		status, size = http.StatusOK, q.full
	case status == http.StatusPartialContent && r.Header.Get("Range") == "":
		status, size = http.StatusOK, q.full
	}
	if cacheableByDefault[status] || status == http.StatusNotModified {
		h.Set("Cache-Control", "max-age=3600")
	}
	switch status {
	case http.StatusNotModified:
		w.WriteHeader(status)
		return
	case http.StatusPartialContent:
		h.Set("Content-Range", fmt.Sprintf("bytes 0-%d/%d", size-1, max(q.full, size)))
	}
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(status)
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
		o.prefetches = append(o.prefetches, prefetchRecord{path: uri, seq: seq, bytes: n})
		o.pending[uri] = int64(len(o.prefetches))
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
