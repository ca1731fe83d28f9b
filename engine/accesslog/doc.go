// Package accesslog writes one line per request in Squid's native format or
// in the common and combined formats of httpd, as Squid writes them.
//
// Append functions format a Record into a caller's buffer without
// allocating. A Writer lets an event loop log without ever waiting on the
// disk: Log formats the line on the caller's stack and copies it into a
// shared buffer under a mutex held only for that copy. A background goroutine
// swaps the buffer for an empty one every second, or as soon as it passes
// 64 KiB, and writes the full one out with the lock released. If the disk
// falls behind so far that 4 MiB wait unwritten, further records are dropped
// and counted rather than queued, so memory stays bounded at two buffers.
// Reopen closes and reopens the file by name, for logrotate's SIGUSR1.
package accesslog
