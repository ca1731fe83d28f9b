package codec

import "bytes"

// responseFields gathers, while a response's field lines are parsed, what
// framing and connection handling depend on.
type responseFields struct {
	lengths int // Content-Length field lines
	connFields
}

// parseResponseFields parses the field lines of a response head, h being the
// lines with their CRLFs and without the final empty line, then decides the
// framing.
func parseResponseFields(h []byte, r *Response, head bool) error {
	var f responseFields
	err := parseFieldLines(h, &r.Headers, func(name, value []byte) error {
		return f.note(name, value, r)
	})
	if err != nil {
		return err
	}
	return f.finish(r, head)
}

// note records a field that framing or connection handling cares about.
func (f *responseFields) note(name, value []byte, r *Response) error {
	switch len(name) {
	case 10:
		switch {
		case EqualFold(name, "connection"):
			if f.connection(value) {
				r.Close = true
			}
		case EqualFold(name, "keep-alive"):
			r.KeepAliveTimeout = keepAliveTimeout(value)
		}
	case 14:
		if EqualFold(name, "content-length") {
			// RFC 9112 §6.3 rule 5 lets a recipient accept a list of equal
			// values; this proxy re-frames what it forwards and takes one
			// spelling only, so a second line or a list is refused like
			// differing values: each has served to desynchronise caches.
			f.lengths++
			if f.lengths > 1 || bytes.IndexByte(value, ',') >= 0 {
				return ErrDuplicateLength
			}
			n, err := parseContentLength(value, -1)
			if err != nil {
				return err
			}
			r.ContentLength = n
		}
	case 17:
		if EqualFold(name, "transfer-encoding") {
			f.transferEncoding(value)
		}
	}
	return nil
}

// finish applies the framing rules of RFC 9112 §6.3 and the persistence
// rules of §9.3, in that order of precedence.
func (f *responseFields) finish(r *Response, head bool) error {
	if f.te {
		// RFC 9112 §6.1: a server must not send both; a response carrying
		// both is how a smuggled body rides past one of two parsers. It is
		// refused whatever the status, so a cache never keeps its connection.
		if r.ContentLength >= 0 {
			return ErrLengthAndChunked
		}
		// RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means
		// faulty framing.
		if r.Minor == 0 {
			return ErrTransferEncoding10
		}
		// RFC 9112 §6.3 rule 4 would read a body without a final chunked
		// until close; the proxy implements no other coding and could not
		// forward it, so anything but a single chunked is refused.
		if f.teOther || f.teCodings != 1 {
			return ErrTransferCoding
		}
	}
	if r.Minor == 0 && !f.keepAlive {
		r.Close = true
	}
	switch {
	case head, r.Status < 200, r.Status == 204, r.Status == 304:
		// RFC 9112 §6.3 rule 1: no body, whatever the fields say. Bytes
		// after the head are not this response's.
		r.Framing = FramingNone
	case f.te:
		r.Framing = FramingChunked
	case r.ContentLength >= 0:
		r.Framing = FramingLength
	default:
		// RFC 9112 §6.3 rule 8: read until the server closes.
		r.Framing = FramingClose
		r.Close = true
	}
	return nil
}

// keepAliveTimeout returns the timeout=N parameter of a Keep-Alive value,
// or 0 when it is absent or not a small decimal.
func keepAliveTimeout(v []byte) int {
	for m, rest := NextListMember(v); m != nil; m, rest = NextListMember(rest) {
		eq := bytes.IndexByte(m, '=')
		if eq < 0 || !EqualFold(TrimOWS(m[:eq]), "timeout") {
			continue
		}
		n := 0
		d := TrimOWS(m[eq+1:])
		if len(d) == 0 || len(d) > 6 {
			return 0
		}
		for _, c := range d {
			if !isDigit(c) {
				return 0
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	return 0
}
