package engine

import (
	"io"
	"net"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/fasthttp"

	"edgeproxy/codec"
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
}

// release returns the pooled request.
func (ex *exchange) release() {
	if ex.req != nil {
		fasthttp.ReleaseRequest(ex.req)
		ex.req = nil
	}
}

// run is the worker's whole job for an attached connection.
func (ex *exchange) run() {
	defer ex.s.inflight.Add(-1)
	defer ex.release()
	ex.roundTrip(&ex.sink)
}

// roundTrip fetches from the origin and relays the answer into w, which
// ends the exchange (w.end) in every case.
func (ex *exchange) roundTrip(w sink) {
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if err := ex.s.client.Do(ex.req, resp); err != nil {
		ex.s.log.Debug("origin fetch failed", "url", string(ex.req.RequestURI()), "err", err)
		if ex.body != nil && !ex.body.done() {
			ex.close = true // the rest of the body is still on the socket
		}
		closing := ex.close || ex.s.draining.Load()
		w.finish(errorResponse(w.buffer(), err, closing), nil, nil, closing)
		return
	}
	if ex.body != nil && (!ex.body.done() || ex.body.buffered() > 0) {
		// The origin answered before reading the whole upload, whose rest
		// cannot be skipped reliably; or a request is pipelined behind the
		// upload, which the enrolled connection could not see. Either way
		// this connection ends.
		ex.close = true
	}
	ex.relay(resp, w)
}

// relay writes the response head and streams the body. The body is read
// into one buffer while the previous one is being written, and every write
// waits until the client has taken all but watermark bytes.
func (ex *exchange) relay(resp *fasthttp.Response, w sink) {
	status := resp.StatusCode()
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
	head := appendResponseHead(w.buffer(), resp, ex.s.set.name, framing, closing)
	if framing == frameNone {
		w.finish(head, nil, nil, closing)
		return
	}

	var stream io.Reader = resp.BodyStream()
	if stream == nil {
		stream = bytesReader(resp.Body())
	}
	defer resp.CloseBodyStream() //nolint:errcheck
	var sent int64
	for i := 0; ; i ^= 1 {
		buf := w.chunk(i)
		b := buf[:]
		if framing == frameChunked {
			b = b[:chunk-chunkRoom]
		}
		n, err := io.ReadAtLeast(stream, b, 1)
		if n > 0 {
			data := b[:n]
			var prefix, suffix []byte
			if framing == frameChunked {
				prefix = codec.AppendChunkHeader(buf[chunk-chunkRoom:chunk-chunkRoom], n)
				suffix = crlf
			}
			if head != nil {
				prefix = append(head, prefix...)
				head = nil
			}
			sent += int64(n)
			if framing == frameLength && sent == int64(cl) {
				// The last bytes go out at once. The stream is still read to
				// its end, which costs nothing once the length is reached:
				// fasthttp pools the origin connection only after EOF.
				w.finish(prefix, data, suffix, closing)
				var tail [1]byte
				_, _ = stream.Read(tail[:])
				return
			}
			if werr := w.write(prefix, data, suffix); werr != nil {
				w.abort()
				return
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			// The origin failed mid-body. The client must see the
			// truncation, so its connection is closed without a final chunk.
			ex.s.log.Debug("origin body failed", "url", string(ex.req.RequestURI()), "sent", sent, "err", err)
			w.abort()
			return
		}
	}
	switch {
	case framing == frameLength && sent != int64(cl):
		w.abort()
	case framing == frameChunked:
		w.finish(head, lastChunk, nil, closing)
	default:
		w.finish(head, nil, nil, closing)
	}
}

// chunkRoom is the space kept at the end of each read buffer for a chunk-size
// line, so chunked framing needs no separate allocation.
const chunkRoom = 32

var (
	crlf      = []byte("\r\n")
	lastChunk = []byte(codec.LastChunk)
)

// bytesReader adapts a body that fasthttp already buffered.
func bytesReader(b []byte) io.Reader {
	return &sliceReader{b: b}
}

type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}
