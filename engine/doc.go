// Package engine is edgeproxy's forward proxy: gnet event loops own every
// client socket, and everything that could block runs elsewhere.
//
// # The connection state machine
//
// A connection's bytes are parsed in place from gnet's inbound buffer by
// codec.Parser (conn.go: states and OnTraffic; forward.go: dispatch by
// method and scheme). A request is admitted (admit.go: proxy
// authentication, then the destination rules) and then answered by one of
// these, each with one home:
//
//   - on the loop, at once: errors and refusals (errors.go maps every error
//     to a status, errorpage.go to a page), cache hits (lookup.go, hit.go;
//     a hit allocates nothing and never leaves the loop);
//   - on the loop through the loop's origin.Pool (engine/origin owns the
//     origin connection: dial, request writing, strict response framing,
//     the per-loop LIFO keep-alive pool): cache-free misses and passes
//     (passthrough.go, pass.go), cache misses and revalidations with their
//     cache writer (fill_loop.go); originpool.go routes the origin
//     connections' gnet events and maps the origin package's errors. A body
//     stays on the loop while the client keeps up; past the watermark the
//     origin socket is detached mid-body and a worker copies the rest under
//     TCP flow control (stream.go's sinks);
//   - on a bounded worker pool through origin.Client, the same framing code
//     driven by blocking reads: https:// origins, tproxy clients, streamed
//     uploads (direct.go), https:// cache fills (fill_worker.go), the disk
//     tier (disk*.go); the worker writes back with AsyncWrite, one chunk in
//     flight, so a slow client makes the worker wait instead of the proxy
//     buffer;
//   - off the loop for good: uploads larger than limits.max_body_buffer and
//     CONNECT tunnels (detach.go, tunnel.go): gnet cannot stop reading a
//     socket, so the socket is duplicated and driven by Go's net package,
//     where TCP flow control bounds memory; after an upload it is enrolled
//     back into a loop;
//   - ftp:// and gopher:// (scheme*.go): a worker speaks FTP (engine/ftp)
//     or Gopher (engine/gopher) and writes an HTTP response through the
//     same sink and cache writer.
//
// While an exchange is in flight the connection parses nothing more:
// pipelined requests wait in gnet's buffer, bounded by limits.max_pipeline,
// and are answered in order; a client whose backlog passes the watermark
// is not answered further until it reads (drain.go).
//
// # Around it
//
// Where a miss goes next (direct, the owning cluster peer, a parent) is
// decided in one place, hop.go, with peer health in hop_health.go, parents
// on the worker path in hop_parent.go and the PAC twin of the hash in
// hop_pac.go. Background fetches no client waits for (refresh-ahead,
// prefetch, disk revalidation) are in ahead.go, budget.go, prefetcher.go
// and diskread.go, and use the same origin clients. Interception listeners
// are intercept_*.go, the access log and Squid result codes record.go,
// metrics collect.go, the admin listener admin.go, start-up and reload
// startup.go and settings.go.
//
// Idle and slow connections, client and origin, are found by a sweep that
// the gnet ticker runs on each loop (loop.go): no goroutine and no timer
// exists per connection.
package engine
