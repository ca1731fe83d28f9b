package main

import (
	"bytes"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// maxObjectSize bounds /obj sizes: the bench needs 1 MiB objects, and a
// typo such as "1g" must not make the origin allocate a gigabyte.
const maxObjectSize = 64 << 20

// bodyCacheBudget caps the bytes of generated bodies kept for reuse; bodies
// beyond it are generated per request.
const bodyCacheBudget = 128 << 20

// lastModified is the fixed Last-Modified of every object, so that
// If-Modified-Since revalidation is deterministic across runs.
var lastModified = time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)

// origin holds the request counter and the generated-body cache.
type origin struct {
	defaultCC []byte
	lastMod   []byte
	requests  atomic.Int64

	mu        sync.Mutex        // protects bodies and cacheUsed
	bodies    map[string][]byte // path → immutable body, shared by responses
	cacheUsed int
}

func newOrigin(defaultCC string) *origin {
	return &origin{
		defaultCC: []byte(defaultCC),
		lastMod:   []byte(lastModified.Format("Mon, 02 Jan 2006 15:04:05 GMT")),
		bodies:    make(map[string][]byte),
	}
}

func newServer(defaultCC string) *fasthttp.Server {
	o := newOrigin(defaultCC)
	return &fasthttp.Server{
		Handler:              o.handle,
		Name:                 "bench-origin",
		NoDefaultContentType: true,
		Concurrency:          1 << 20,
		ReadBufferSize:       16 << 10,
	}
}

// parseSize turns a size class such as "512", "1k", "64k" or "1m" into bytes.
func parseSize(s []byte) (int, error) {
	if len(s) == 0 {
		return 0, errBadSize
	}
	mult := 1
	switch s[len(s)-1] {
	case 'k', 'K':
		mult, s = 1<<10, s[:len(s)-1]
	case 'm', 'M':
		mult, s = 1<<20, s[:len(s)-1]
	}
	n, err := strconv.Atoi(string(s))
	if err != nil || n < 0 || n*mult > maxObjectSize {
		return 0, errBadSize
	}
	return n * mult, nil
}

// fillBody writes the deterministic body for seed into dst: printable bytes
// from a xorshift64 stream, so a diff of two bodies is readable.
func fillBody(dst []byte, seed uint64) {
	x := seed | 1
	for i := 0; i < len(dst); i += 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		v := x
		for j := i; j < i+8 && j < len(dst); j++ {
			dst[j] = 'a' + byte(v%26)
			v >>= 8
		}
	}
}

// seedOf is FNV-1a over the object path (query excluded).
func seedOf(path []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range path {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// etagOf is the strong validator of an object: its seed and size.
func etagOf(seed uint64, size int) []byte {
	b := make([]byte, 0, 32)
	b = append(b, '"')
	b = strconv.AppendUint(b, seed, 16)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(size), 10)
	return append(b, '"')
}

// body returns the body of path, from the cache when it fits the budget.
// The returned slice is never mutated.
func (o *origin) body(path []byte, seed uint64, size int) []byte {
	o.mu.Lock()
	b, ok := o.bodies[string(path)]
	o.mu.Unlock()
	if ok {
		return b
	}
	b = make([]byte, size)
	fillBody(b, seed)
	o.mu.Lock()
	if o.cacheUsed+size <= bodyCacheBudget {
		o.bodies[string(path)] = b
		o.cacheUsed += size
	}
	o.mu.Unlock()
	return b
}

func (o *origin) handle(ctx *fasthttp.RequestCtx) {
	path := ctx.Path()
	switch {
	case bytes.HasPrefix(path, []byte("/obj/")):
		o.requests.Add(1)
		o.serveObject(ctx, path)
	case string(path) == "/__stats":
		ctx.SetContentType("application/json")
		ctx.Response.Header.Set("Cache-Control", "no-store")
		b := append([]byte(`{"requests":`), strconv.AppendInt(nil, o.requests.Load(), 10)...)
		ctx.SetBody(append(b, "}\n"...))
	case string(path) == "/__reset":
		o.requests.Store(0)
		ctx.Response.Header.Set("Cache-Control", "no-store")
		ctx.SetBodyString("ok\n")
	default:
		ctx.Error("not found\n", fasthttp.StatusNotFound)
	}
}

// serveObject answers /obj/<size>/<id> with its fault modes.
func (o *origin) serveObject(ctx *fasthttp.RequestCtx, path []byte) {
	rest := path[len("/obj/"):]
	slash := bytes.IndexByte(rest, '/')
	if slash <= 0 || slash == len(rest)-1 {
		ctx.Error("want /obj/<size>/<id>\n", fasthttp.StatusNotFound)
		return
	}
	size, err := parseSize(rest[:slash])
	if err != nil {
		ctx.Error("bad size class\n", fasthttp.StatusBadRequest)
		return
	}
	args := ctx.QueryArgs()
	if d := args.Peek("delay"); len(d) > 0 {
		dur, err := time.ParseDuration(string(d))
		if err != nil || dur < 0 || dur > time.Minute {
			ctx.Error("bad delay\n", fasthttp.StatusBadRequest)
			return
		}
		time.Sleep(dur)
	}

	seed := seedOf(path)
	etag := etagOf(seed, size)
	cc := o.defaultCC
	if v := args.Peek("cc"); len(v) > 0 {
		cc = v
	}
	h := &ctx.Response.Header
	h.SetBytesV("Cache-Control", cc)
	h.SetBytesV("ETag", etag)
	h.SetBytesV("Last-Modified", o.lastMod)
	h.SetContentType("application/octet-stream")

	if inm := ctx.Request.Header.Peek("If-None-Match"); len(inm) > 0 && bytes.Contains(inm, etag) {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return
	}
	if ims := ctx.Request.Header.Peek("If-Modified-Since"); len(ims) > 0 && len(ctx.Request.Header.Peek("If-None-Match")) == 0 {
		if t, err := fasthttp.ParseHTTPDate(ims); err == nil && !lastModified.After(t) {
			ctx.SetStatusCode(fasthttp.StatusNotModified)
			return
		}
	}

	body := o.body(path, seed, size)
	switch {
	case args.Has("reset"):
		ctx.HijackSetNoResponse(true)
		ctx.Hijack(resetConn)
	case args.Has("truncate"):
		n, err := strconv.Atoi(string(args.Peek("truncate")))
		if err != nil || n < 0 {
			ctx.Error("bad truncate\n", fasthttp.StatusBadRequest)
			return
		}
		n = min(n, size)
		head := truncatedHead(cc, etag, o.lastMod, size)
		ctx.HijackSetNoResponse(true)
		ctx.Hijack(func(c net.Conn) {
			c.Write(head)
			c.Write(body[:n])
		})
	case args.Has("chunked"):
		ctx.SetBodyStream(bytes.NewReader(body), -1)
	default:
		ctx.Response.SetBodyRaw(body)
	}
}

// truncatedHead is the header block of a truncated response: it announces
// the full Content-Length although fewer bytes will follow.
func truncatedHead(cc, etag, lastMod []byte, size int) []byte {
	b := append([]byte(nil), "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nCache-Control: "...)
	b = append(b, cc...)
	b = append(b, "\r\nETag: "...)
	b = append(b, etag...)
	b = append(b, "\r\nLast-Modified: "...)
	b = append(b, lastMod...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(size), 10)
	return append(b, "\r\n\r\n"...)
}

// resetConn closes c with SO_LINGER 0, so the peer sees a TCP RST instead
// of a FIN.
func resetConn(c net.Conn) {
	if u, ok := c.(interface{ UnsafeConn() net.Conn }); ok {
		c = u.UnsafeConn()
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}
