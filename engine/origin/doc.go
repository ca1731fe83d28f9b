// Package origin is the proxy's HTTP/1.1 client, run on the event loops.
//
// Each event loop owns one Pool: the connections to origins that its client
// connections use, idle ones kept per host:port in LIFO order (the most
// recently used is the least likely to have been closed by the origin). A
// fetch is an Exchange. Do takes an idle connection or dials a new one off
// the loop (Config.Dial may block: DNS, connect, the destination check) and
// enrolls it on the same loop, so that the request is written, and the
// response head and body are read with codec, on the goroutine that owns the
// client's socket: no handoff, no lock.
//
// Framing is strict by construction. A connection goes back to the pool only
// when its response ended exactly at a message boundary with nothing else
// buffered and neither side said close (nginx's upstream keepalive, HAProxy's
// http-reuse safe); bytes past the end of a response, or bytes arriving on an
// idle connection, close it, and never reach another exchange. Pools are
// keyed by the origin's host name and port, so even bytes that race ahead of
// that check can only reach a request to the same origin.
//
// A request is retried once, on a freshly dialed connection, only when it is
// idempotent and a reused connection failed before any response byte: the
// race of a keep-alive connection the origin has just closed. The origin's
// Keep-Alive: timeout=N is honoured by dropping the idle connection before it
// runs out. gnet has no timers, so the loop's periodic sweep calls
// Pool.Sweep, which enforces the response-head and body-progress timeouts
// and the idle lifetimes.
//
// Client is the same client for the origins a loop cannot own: TLS (gnet
// has no TLS), a connection that must leave from a client's address, a
// request body streamed from a socket detached from its loop. It runs an
// Exchange on the calling goroutine with blocking reads under deadlines,
// through the same framing code (reader) and the same reuse and retry
// rules, and keeps its own idle connections; an idle one is peeked without
// blocking before reuse, since no event loop watches it.
//
// Every method of Pool, Conn and an Exchange given to Pool.Do runs on the
// pool's event loop; an Exchange given to Client.Do belongs to the calling
// goroutine.
package origin
