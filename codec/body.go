package codec

// BodyDecoder follows a response body as it arrives, whatever its framing,
// and says exactly where it ends: bytes past that point belong to no message
// the origin was asked for. Like ChunkedDecoder it keeps no bytes, only its
// place. The zero value has ended at once (FramingNone); Reset starts a body.
// A BodyDecoder is not safe for concurrent use.
type BodyDecoder struct {
	framing Framing
	left    int64 // FramingLength: body bytes still to come
	done    bool
	chunked ChunkedDecoder
}

// Reset prepares d for the body of r.
func (d *BodyDecoder) Reset(r *Response) {
	d.Start(r.Framing, r.ContentLength)
}

// Start prepares d for a body of framing f; length is the Content-Length
// for FramingLength and is ignored otherwise.
func (d *BodyDecoder) Start(f Framing, length int64) {
	*d = BodyDecoder{framing: f, left: length}
	switch f {
	case FramingNone:
		d.done = true
	case FramingLength:
		d.done = length <= 0
	}
}

// Done reports whether the body has ended.
func (d *BodyDecoder) Done() bool { return d.done }

// Framing returns the framing d follows.
func (d *BodyDecoder) Framing() Framing { return d.framing }

// Decode consumes body bytes from the start of b. It returns n, the bytes
// consumed (framing included: b[:n] is the body as sent), the payload found
// (a view into b; for a chunked body at most one chunk's data per call), and
// done once the body has ended. When done, b[n:] is not part of this
// message. Call again with b[n:] plus new bytes while n > 0 and not done.
// A close-delimited body consumes everything and ends only through EOF.
// Errors are those of ChunkedDecoder.
func (d *BodyDecoder) Decode(b []byte) (n int, data []byte, done bool, err error) {
	if d.done {
		return 0, nil, true, nil
	}
	switch d.framing {
	case FramingLength:
		k := int(min(d.left, int64(len(b))))
		d.left -= int64(k)
		d.done = d.left == 0
		return k, b[:k], d.done, nil
	case FramingChunked:
		n, data, d.done, err = d.chunked.Decode(b)
		return n, data, d.done, err
	case FramingClose:
		return len(b), b, false, nil
	}
	d.done = true
	return 0, nil, true, nil
}

// EOF tells d that the connection ended. It returns nil when that ends the
// body properly (a close-delimited body, or one already done) and
// ErrTruncated otherwise (RFC 9112 §8: an incomplete message).
func (d *BodyDecoder) EOF() error {
	if d.done {
		return nil
	}
	if d.framing == FramingClose {
		d.done = true
		return nil
	}
	return ErrTruncated
}

// Remaining returns the body bytes still expected for FramingLength, or -1
// when the framing does not say.
func (d *BodyDecoder) Remaining() int64 {
	if d.framing == FramingLength {
		return d.left
	}
	if d.done {
		return 0
	}
	return -1
}
