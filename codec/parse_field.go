package codec

import (
	"bytes"
	"math"
)

// fields gathers, while a request's field lines are parsed, what framing,
// Host and connection handling depend on.
type fields struct {
	hosts int // Host field lines
	connFields
}

// connFields gathers what requests and responses both note: the
// Transfer-Encoding list and whether Connection lists keep-alive.
type connFields struct {
	te        bool // a Transfer-Encoding line was seen
	teCodings int  // transfer codings listed across all its lines
	teOther   bool // a coding other than chunked was listed
	keepAlive bool // Connection lists keep-alive
}

// connection notes a Connection value and reports whether it lists close.
func (c *connFields) connection(value []byte) (close bool) {
	for m, rest := NextListMember(value); m != nil; m, rest = NextListMember(rest) {
		if EqualFold(m, "close") {
			close = true
		} else if EqualFold(m, "keep-alive") {
			c.keepAlive = true
		}
	}
	return close
}

// transferEncoding notes a Transfer-Encoding value. Several lines form one
// list (RFC 9110 §5.3), so codings are counted across lines.
func (c *connFields) transferEncoding(value []byte) {
	c.te = true
	for m, rest := NextListMember(value); m != nil; m, rest = NextListMember(rest) {
		c.teCodings++
		if !EqualFold(m, "chunked") {
			c.teOther = true
		}
	}
}

// parseFields parses the field lines of a request head, h being the lines
// with their CRLFs and without the final empty line, then decides the
// framing.
func parseFields(h []byte, r *Request) error {
	var f fields
	err := parseFieldLines(h, &r.Headers, func(name, value []byte) error {
		return f.note(name, value, r)
	})
	if err != nil {
		return err
	}
	return f.finish(r)
}

// parseFieldLines is the field-line loop of requests and responses alike:
// it splits h, the lines with their CRLFs and without the final empty line,
// appends each field to *hs and passes it to note. note is only called, so
// a closure over the caller's state stays on its stack: no allocation.
func parseFieldLines(h []byte, hs *[]Header, note func(name, value []byte) error) error {
	for len(h) > 0 {
		i := bytes.IndexByte(h, '\n')
		name, value, err := splitField(h[:i-1])
		if err != nil {
			return err
		}
		h = h[i+1:]
		*hs = append(*hs, Header{Name: name, Value: value})
		if err := note(name, value); err != nil {
			return err
		}
	}
	return nil
}

// note records a field that framing, Host or connection handling cares about.
// Names are told apart by length first, so most fields cost one switch.
func (f *fields) note(name, value []byte, r *Request) error {
	switch len(name) {
	case 4:
		if !EqualFold(name, "host") {
			return nil
		}
		// RFC 9112 §3.2: 400 for more than one Host line or an invalid value.
		f.hosts++
		if f.hosts > 1 {
			return ErrDuplicateHost
		}
		if len(value) > 0 {
			if _, _, err := splitAuthority(value, false, ErrHost); err != nil {
				return err
			}
		}
		r.HostHeader = value
	case 6:
		if EqualFold(name, "expect") && ListHas(value, "100-continue") {
			r.Expect100 = true
		}
	case 10:
		if EqualFold(name, "connection") && f.connection(value) {
			r.Close = true
		}
	case 14:
		if EqualFold(name, "content-length") {
			n, err := parseContentLength(value, r.ContentLength)
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

// finish applies the rules that need every field: message framing
// (RFC 9112 §6), Host presence and the connection's persistence.
func (f *fields) finish(r *Request) error {
	if f.te {
		// RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means the
		// framing is faulty; a 1.0 peer may not know chunked at all.
		if r.Minor == 0 {
			return ErrTransferEncoding10
		}
		// RFC 9112 §6.1, §6.3: a request with both is a smuggling attempt or
		// a broken intermediary; a server may reject it, and a proxy that
		// picked one of the two could disagree with the origin.
		if r.ContentLength >= 0 {
			return ErrLengthAndChunked
		}
		// RFC 9112 §6.3: chunked must be the final coding, and we implement
		// no other, so the list must be exactly "chunked" (501 would also do,
		// RFC 9112 §6.1; a sentinel lets the engine choose).
		if f.teOther || f.teCodings != 1 {
			return ErrTransferCoding
		}
		r.Chunked = true
	}
	// RFC 9112 §3.2: an HTTP/1.1 request without Host gets 400. For an
	// absolute-form target the proxy then ignores its value (§3.2.2).
	if r.Minor == 1 && f.hosts == 0 {
		return ErrMissingHost
	}
	// RFC 9112 §9.3: HTTP/1.0 persists only with keep-alive.
	if r.Minor == 0 && !f.keepAlive {
		r.Close = true
	}
	// RFC 9110 §10.1.1: a server must ignore 100-continue from HTTP/1.0.
	if r.Minor == 0 {
		r.Expect100 = false
	}
	return nil
}

// parseContentLength parses a Content-Length value, prev being the value of
// an earlier line or -1. It accepts, as RFC 9110 §8.6 permits, a list whose
// members are all the same number ("42, 42") and lines that repeat the same
// number; members that differ, here or from prev, are a smuggling vector and
// refused (RFC 9112 §6.3). Empty members, signs and overflow are refused.
func parseContentLength(v []byte, prev int64) (int64, error) {
	n := prev
	for {
		i := bytes.IndexByte(v, ',')
		m := v
		if i >= 0 {
			m = v[:i]
		}
		m = TrimOWS(m)
		if len(m) == 0 {
			return 0, ErrContentLength
		}
		var x int64
		for _, c := range m {
			if !isDigit(c) {
				return 0, ErrContentLength
			}
			d := int64(c - '0')
			if x > (math.MaxInt64-d)/10 {
				return 0, ErrContentLength
			}
			x = x*10 + d
		}
		if n >= 0 && x != n {
			return 0, ErrDuplicateLength
		}
		n = x
		if i < 0 {
			return n, nil
		}
		v = v[i+1:]
	}
}
