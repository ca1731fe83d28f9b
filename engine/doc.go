// Package engine is edgeproxy's forward proxy: gnet event loops own every
// client socket, and everything that could block runs elsewhere.
//
// A connection's bytes are parsed in place from gnet's inbound buffer by
// codec.Parser. What can be answered at once (an error, a cache hit, a
// refusal) is written on the event loop. A request that needs an origin and
// cannot be fetched on the loop (https://, tproxy, a streamed upload) is
// handed to a bounded worker pool; the worker fetches through the origin
// package's blocking Client (direct.go, fill_worker.go) and streams the
// response back with AsyncWrite, one chunk in flight and gnet's outbound
// buffer held under a high watermark, so a slow client makes the
// worker wait instead of the proxy buffer. While an exchange is in flight the
// connection parses nothing more: pipelined requests wait in gnet's buffer,
// bounded by limits.max_pipeline, and are answered in order.
//
// A plain-http miss the cache takes no part in skips the worker: the
// loop's origin.Pool writes it to an origin connection enrolled on the same
// loop and the response is relayed from that connection's callbacks
// (passthrough.go); a body larger than the watermark, or of unknown length,
// leaves the loop at its head and is pumped by a worker like the others.
//
// ftp:// and gopher:// requests take the same path with the proxy as their
// origin (scheme.go): checked on the loop, then a worker speaks FTP
// (engine/ftp) or Gopher (engine/gopher) and writes an HTTP response through
// the same sink and cache writer.
//
// gnet cannot stop reading a socket, so a request body larger than
// limits.max_body_buffer and every CONNECT tunnel leave the event loop: the
// socket is duplicated, the gnet connection closed, and the duplicate driven
// by Go's net package in a goroutine that lives as long as that work, where
// the kernel's TCP flow control bounds memory. After an upload the socket
// is enrolled back into an event loop.
//
// Idle and slow connections, client and origin, are found by a sweep that
// the gnet ticker runs on each loop: no goroutine and no timer exists per
// connection.
package engine
