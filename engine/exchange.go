package engine

import (
	"io"
	"net"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/fasthttp"

	"edgeproxy/cache"
	"edgeproxy/codec"
	"edgeproxy/engine/origin"
)

// exchange is one request in flight to an origin and its response on the
// way back. The loop creates it; from dispatch on it belongs to one worker,
// except for the callbacks that gnet runs on the loop.
type exchange struct {
	s      *Server
	cc     *clientConn // touched only in callbacks on the loop
	c      gnet.Conn
	req    *fasthttp.Request
	client string // client address, for X-Forwarded-For and logs
	minor  uint8  // the client's HTTP/1 minor version
	head   bool   // HEAD: the response has no body
	close  bool   // the client connection ends after this exchange
	start  time.Time
	sink   asyncSink

	// Set only for a detached upload: the body arrives through body.
	upload upload
	nc     net.Conn
	body   *bodyReader

	cacheState
	recheck *recheck // a dst rule to decide on the resolved address, or nil
	route   route    // an intercepted request's original destination
	bg      uint8    // bgNone, or the kind of background fetch
	// For the access log: what was sent, and how it was answered.
	status int
	sent   int64
	code   string
	user   string
	method string
	target string
	peer   string // the origin's IP address
	ctype  string // Content-Type of the answer
	// Referer and User-Agent of the request, for the combined log.
	referer, agent string
	html           bool // the client accepts an HTML error page
	lookedUp       bool // the request was looked up in the cache first

	// Set for an exchange fetched on the loop (passthrough.go).
	oaddr    string          // the origin's host:port
	ohead    []byte          // the request head bound for it
	oex      origin.Exchange // the fetch
	headSent bool            // the response head went to the client
	hold     bool            // head and whole body are gathered in loop.out first
	fs       fillState       // a cache exchange fetched by the origin package
	fh       fillHandler     // its origin.Handler

	alt  *altRequest    // an ftp:// or gopher:// request, fetched by the proxy itself
	hop  *hopRoute      // a cluster peer or parent the request goes through, or nil (hop.go)
	dreq *directRequest // a cache-free request for the worker-side origin client (direct.go)

	large *cache.Ref // a tier-L hit streamed by a worker
	plan  hitPlan    // its answer
	hhead []byte     // its head, built on the loop
}

// url is the request target for logs.
func (ex *exchange) url() string {
	if ex.req == nil {
		return ex.target
	}
	return string(ex.req.RequestURI())
}

// release returns the pooled request.
func (ex *exchange) release() {
	if ex.req != nil {
		fasthttp.ReleaseRequest(ex.req)
		ex.req = nil
	}
}

// run is the worker's whole job for an attached connection, unless it
// hands the exchange back to the loop, which then ends it.
func (ex *exchange) run() {
	if ex.large != nil {
		ex.streamLarge(&ex.sink)
	} else if ex.roundTrip(&ex.sink) {
		return
	}
	ex.s.inflight.Add(-1)
	ex.release()
	ex.logDone()
}

// streamLarge sends a tier-L hit whose head the loop wrote into hhead.
func (ex *exchange) streamLarge(w sink) {
	defer ex.large.Release()
	ex.code, ex.status = codeMemHit, ex.plan.status
	closing := ex.close || ex.s.draining.Load()
	r := ex.plan.ranges[0]
	ex.sendRef(w, ex.large, ex.hhead, r.Start, r.Len(), closing)
}

// sendRef writes length bytes of a tier-L body from start, behind head,
// straight from the cache's chunks: no copy, one write per chunk. The chunks
// never change and stay reachable while a write refers to them.
func (ex *exchange) sendRef(w sink, ref *cache.Ref, head []byte, start, length int64, closing bool) {
	off, end := start, start+length
	if length == 0 {
		w.finish(head, nil, nil, closing)
		return
	}
	for off < end {
		c := ref.Chunk(off)
		if c == nil {
			w.abort()
			return
		}
		if rest := end - off; int64(len(c)) > rest {
			c = c[:rest]
		}
		off += int64(len(c))
		if off == end {
			w.finish(head, c, nil, closing)
			return
		}
		if err := w.write(head, c, nil); err != nil {
			w.abort()
			return
		}
		head = nil
	}
}

// roundTrip fetches from the origin and relays the answer into w, which
// ends the exchange (w.finish or w.abort) in every case but one: it
// reports true when it handed a cache fill back to the loop (fetchCached).
func (ex *exchange) roundTrip(w sink) bool {
	if ex.recheck != nil {
		if err := ex.recheck.decide(ex.s.dest, ex.s.set.origin.connect); err != nil {
			ex.refused(w, err)
			return false
		}
	}
	if ex.alt != nil {
		ex.serveScheme(w)
		return false
	}
	if ex.mode != cacheNone {
		return ex.fetchCached(w)
	}
	// A cache-free http or https exchange has its origin request ready
	// (prepareDirect), through a parent proxy or straight to its origin.
	if ex.dreq == nil {
		ex.replyError(w, ErrScheme)
		return false
	}
	ex.fetchDirect(w)
	return false
}

// pump streams a body from src to the client behind head, in the given
// framing, and into the cache writer ex.fill when there is one. A body that
// ends early, or fails, aborts both: the client sees the truncation (its
// connection closes without a final chunk) and nothing is stored. When the
// client goes away, a fill that other clients follow goes on; otherwise
// quick_abort decides whether the rest is worth fetching for the cache
// (keepFilling), and an abandoned fetch closes its origin connection.
func (ex *exchange) pump(w sink, src io.Reader, head []byte, framing int, cl int64, closing bool) {
	var sent int64
	clientGone := false
	for i := 0; ; i ^= 1 {
		buf := w.chunk(i)
		b := buf[:]
		if framing == frameChunked {
			b = b[:chunk-chunkRoom]
		}
		n, err := io.ReadAtLeast(src, b, 1)
		if n > 0 {
			data := b[:n]
			sent += int64(n)
			if ex.fill != nil {
				if _, ferr := ex.fill.Write(data); ferr != nil {
					ex.abortFill()
				}
			}
			if ex.spool != nil {
				ex.spool.write(data)
			}
			if clientGone {
				if !ex.keepFilling(sent, cl) {
					return
				}
				continue
			}
			var prefix, suffix []byte
			if framing == frameChunked {
				prefix = codec.AppendChunkHeader(buf[chunk-chunkRoom:chunk-chunkRoom], n)
				suffix = crlf
			}
			if head != nil {
				prefix = append(head, prefix...)
				head = nil
			}
			if framing == frameLength && sent == cl {
				// The last bytes go out at once. The stream is still read to
				// its end, which costs nothing once the length is reached:
				// the cache commits only a body that ended cleanly.
				var tail [1]byte
				_, terr := src.Read(tail[:])
				if terr == io.EOF || terr == nil {
					ex.commitFill()
				} else {
					ex.abortFill()
				}
				w.finish(prefix, data, suffix, closing)
				return
			}
			if werr := w.write(prefix, data, suffix); werr != nil {
				w.abort()
				clientGone = true
				if ex.bg == bgPrefetch { // over prefetch.max_object
					ex.abortFill()
				}
				if !ex.keepFilling(sent, cl) {
					return
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			// The origin failed mid-body. The client must see the
			// truncation, so its connection is closed without a final chunk.
			ex.s.log.Debug("origin body failed", "url", ex.url(), "sent", sent, "err", err)
			ex.abortFill()
			if !clientGone {
				w.abort()
			}
			return
		}
	}
	if framing == frameLength && sent != cl {
		ex.abortFill()
		if !clientGone {
			w.abort()
		}
		return
	}
	ex.commitFill()
	if clientGone {
		return
	}
	if framing == frameChunked {
		w.finish(head, lastChunk, nil, closing)
		return
	}
	w.finish(head, nil, nil, closing)
}

// chunkRoom is the space kept at the end of each read buffer for a chunk-size
// line, so chunked framing needs no separate allocation.
const chunkRoom = 32

var (
	crlf      = []byte("\r\n")
	lastChunk = []byte(codec.LastChunk)
)
