package engine

import (
	"bytes"
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

	resp  *fasthttp.Response // the origin response being relayed
	large *cache.Ref         // a tier-L hit streamed by a worker
	plan  hitPlan            // its answer
	hhead []byte             // its head, built on the loop
}

// doneWithOrigin returns the origin connection to the pool once its body
// has been read: before the last write to the client, so that the client's
// next request finds the connection idle.
func (ex *exchange) doneWithOrigin() {
	if ex.resp != nil {
		_ = ex.resp.CloseBodyStream()
		ex.resp = nil
	}
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
	// (prepareDirect) unless it goes through a cluster peer or a parent
	// proxy, which fasthttp's per-parent HostClients still carry (hop_parent.go).
	if ex.dreq != nil {
		ex.fetchDirect(w)
		return false
	}
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	began := time.Now()
	ex.s.stats.OriginConns().Add(1)
	err := ex.do(resp)
	ex.s.stats.OriginConns().Add(-1)
	ex.s.stats.ObserveOrigin(time.Since(began))
	resp.Header.SetNoDefaultContentType(true) // Do resets it; fasthttp would invent a Content-Type
	if err != nil {
		ex.s.log.Debug("origin fetch failed", "url", ex.url(), "err", err)
		if ex.body != nil && !ex.body.done() {
			ex.close = true // the rest of the body is still on the socket
		}
		if ex.body != nil && ex.body.timedOut() {
			err = ErrBodyTimeout // the client's fault, not the origin's: 408
		}
		ex.replyError(w, err)
		return false
	}
	if ex.body != nil && (!ex.body.done() || ex.body.buffered() > 0) {
		// The origin answered before reading the whole upload, whose rest
		// cannot be skipped reliably; or a request is pipelined behind the
		// upload, which the enrolled connection could not see. Either way
		// this connection ends.
		ex.close = true
	}
	ex.relay(resp, w)
	return false
}

// relay writes the response head and streams the body. The body is read
// into one buffer while the previous one is being written, and every write
// waits until the client has taken all but watermark bytes.
func (ex *exchange) relay(resp *fasthttp.Response, w sink) {
	status := resp.StatusCode()
	ex.status = status
	if ra := resp.RemoteAddr(); ra != nil {
		ex.peer = peerAddr(ra)
	}
	ex.ctype = string(resp.Header.Peek("Content-Type"))
	bodyless := ex.head || status == 204 || status == 304 || status < 200
	cl := resp.Header.ContentLength() // -1 chunked, -2 until close
	framing := frameLength
	switch {
	case bodyless:
		framing = frameNone
	case cl < 0 && ex.minor == 1:
		framing = frameChunked
	case cl < 0:
		framing = frameClose
		ex.close = true
	}
	closing := ex.close || ex.s.draining.Load()
	ex.invalidate(resp)
	head := appendResponseHead(w.buffer(), resp, ex.s.set.name, framing, closing, ex.report())
	ex.resp = resp
	defer ex.doneWithOrigin()
	if framing == frameNone {
		ex.commitFill()
		ex.doneWithOrigin()
		w.finish(head, nil, nil, closing)
		return
	}

	var stream io.Reader = resp.BodyStream()
	if stream == nil {
		stream = bytes.NewReader(resp.Body())
	}
	ex.pump(w, stream, head, framing, int64(cl), closing)
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
				// fasthttp pools the origin connection only after EOF, and
				// the cache commits only a body that ended cleanly.
				var tail [1]byte
				_, terr := src.Read(tail[:])
				if terr == io.EOF || terr == nil {
					ex.commitFill()
				} else {
					ex.abortFill()
				}
				ex.doneWithOrigin()
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
		if err == io.EOF && cl == -1 && ex.resp != nil && originClosed(ex.resp) {
			err = io.ErrUnexpectedEOF // the connection closed between chunks
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
	ex.doneWithOrigin()
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
