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
// The search for the end of the head and the limits of Limits run as bytes
// arrive, so an oversized request line or head is refused before it ends;
// the field-by-field parse runs once, over the complete head. Lines end in
// CRLF only: a bare LF, which RFC 9112 §2.2 merely permits, is refused like a
// bare CR, so the proxy never frames a head differently from a strict origin.
//
// A ResponseParser reads an origin's response head the same way, with the
// request method's say in its framing (RFC 9112 §6.3: a response to HEAD,
// and every 1xx, 204 and 304, has no body whatever its fields claim), and a
// BodyDecoder follows the body, by length, chunks or connection close, to
// the exact byte where the message ends: whatever lies beyond belongs to no
// request and must never be read as the next response.
//
// A ChunkedDecoder walks a chunked body the same way: it keeps its place in
// the framing, not the bytes, and hands back the chunk data as views.
//
// The Append functions encode status lines, header fields, chunk framing,
// Content-Range and HTTP dates into a caller-owned buffer, so responses are
// built without allocation. IsHopByHop and Request.ConnectionLists tell
// which fields stop at this hop, and ParseRange turns a Range field into
// byte ranges of a stored representation.
package codec
