package intercept

// MaxHello bounds the ClientHello ServerName reassembles. A hello with
// post-quantum key shares is under 2 KiB; one record holds at most 16 KiB
// (RFC 8446 §5.1), and nothing legitimate needs more than two.
const MaxHello = 32 << 10

// TLS constants (RFC 8446 §4, RFC 6066 §3).
const (
	recordHandshake   = 22
	recordHeaderLen   = 5
	typeClientHello   = 1
	extServerName     = 0
	nameTypeHostName  = 0
	maxRecordPayload  = 1<<14 + 256 // TLSPlaintext may not exceed 2^14; a little slack for old clients
	maxHostNameLength = 253
)

// ServerName returns the host name a TLS ClientHello at the start of b asks
// for, or nil when it sends no server_name. The name is a view into b, or
// into scratch when the hello spans records; scratch is reused (pass it
// back each call, it may be nil). ErrNeedMore asks for more bytes.
func ServerName(b []byte, scratch *[]byte) ([]byte, error) {
	hello, err := handshake(b, scratch)
	if err != nil {
		return nil, err
	}
	return helloServerName(hello)
}

// handshake reassembles the first handshake message from the records at
// the start of b and checks it is a ClientHello. It returns the message
// body.
func handshake(b []byte, scratch *[]byte) ([]byte, error) {
	var msg []byte
	joined := false
	for off := 0; ; {
		if len(b)-off < recordHeaderLen {
			return nil, needMoreOr(off, len(b))
		}
		if b[off] != recordHandshake || b[off+1] != 3 {
			return nil, ErrNotTLS
		}
		n := int(b[off+3])<<8 | int(b[off+4])
		if n == 0 || n > maxRecordPayload {
			return nil, ErrMalformed
		}
		if off+recordHeaderLen+n > MaxHello {
			return nil, ErrHelloTooLarge
		}
		if len(b)-off-recordHeaderLen < n {
			return nil, ErrNeedMore
		}
		payload := b[off+recordHeaderLen : off+recordHeaderLen+n]
		off += recordHeaderLen + n
		if msg == nil {
			msg = payload
		} else {
			if !joined {
				*scratch = append((*scratch)[:0], msg...)
				joined = true
			}
			*scratch = append(*scratch, payload...)
			msg = *scratch
		}
		if msg[0] != typeClientHello {
			return nil, ErrNotTLS
		}
		if len(msg) < 4 {
			continue
		}
		size := int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3])
		if size > MaxHello {
			return nil, ErrHelloTooLarge
		}
		if len(msg)-4 >= size {
			return msg[4 : 4+size], nil
		}
	}
}

func needMoreOr(off, n int) error {
	if off > n {
		return ErrMalformed
	}
	return ErrNeedMore
}

// helloServerName walks a ClientHello body (RFC 8446 §4.1.2) to its
// server_name extension.
func helloServerName(h []byte) ([]byte, error) {
	r := reader(h)
	if !r.skip(2+32) || // legacy_version, random
		!r.skipVec(1) || // legacy_session_id
		!r.skipVec(2) || // cipher_suites
		!r.skipVec(1) { // legacy_compression_methods
		return nil, ErrMalformed
	}
	if len(r) == 0 {
		return nil, nil // no extensions at all (TLS 1.0 era)
	}
	exts, ok := r.vec(2)
	if !ok || len(r) != 0 {
		return nil, ErrMalformed
	}
	for len(exts) > 0 {
		typ, ok := exts.u16()
		if !ok {
			return nil, ErrMalformed
		}
		data, ok := exts.vec(2)
		if !ok {
			return nil, ErrMalformed
		}
		if typ != extServerName {
			continue
		}
		list, ok := data.vec(2)
		if !ok || len(data) != 0 {
			return nil, ErrMalformed
		}
		for len(list) > 0 {
			nt := list[0]
			list = list[1:]
			name, ok := list.vec(2)
			if !ok {
				return nil, ErrMalformed
			}
			if nt == nameTypeHostName {
				if !validHostName(name) {
					return nil, ErrBadServerName
				}
				return name, nil
			}
		}
		return nil, nil
	}
	return nil, nil
}

// validHostName reports whether name looks like a DNS host name in ASCII
// (RFC 6066 §3): letters, digits, hyphens, dots and, as real names have
// them, underscores. Nothing else may reach logs and rules.
func validHostName(name []byte) bool {
	if len(name) == 0 || len(name) > maxHostNameLength {
		return false
	}
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.', c == '_':
		default:
			return false
		}
	}
	return true
}

// reader consumes big-endian TLS vectors.
type reader []byte

func (r *reader) skip(n int) bool {
	if len(*r) < n {
		return false
	}
	*r = (*r)[n:]
	return true
}

func (r *reader) u16() (uint16, bool) {
	if len(*r) < 2 {
		return 0, false
	}
	v := uint16((*r)[0])<<8 | uint16((*r)[1])
	*r = (*r)[2:]
	return v, true
}

// vec reads a vector with a lenBytes-byte length prefix.
func (r *reader) vec(lenBytes int) (reader, bool) {
	if len(*r) < lenBytes {
		return nil, false
	}
	n := 0
	for i := 0; i < lenBytes; i++ {
		n = n<<8 | int((*r)[i])
	}
	if len(*r)-lenBytes < n {
		return nil, false
	}
	v := (*r)[lenBytes : lenBytes+n]
	*r = (*r)[lenBytes+n:]
	return v, true
}

func (r *reader) skipVec(lenBytes int) bool {
	_, ok := r.vec(lenBytes)
	return ok
}
