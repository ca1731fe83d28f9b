// Package codec parses and writes HTTP/1.x messages in place, over plain byte
// slices, with no knowledge of sockets.
//
// A Parser reads a request head from the bytes a connection has buffered and
// fills a Request whose fields are views into those bytes: nothing is copied,
// and the views are valid only until the caller discards or reuses the buffer.
// A head that has not fully arrived yields ErrNeedMore; the Parser remembers
// how far it has scanned, so a request trickling in one byte at a time is not
// rescanned from its start on every read. Framing is decided by the rules of
// RFC 9112 §6, and every ambiguity that request smuggling feeds on is refused
// with a sentinel error rather than guessed at.
//
// The Append functions encode status lines, header fields, chunk framing and
// HTTP dates into a caller-owned buffer, so responses are built without
// allocation.
package codec
