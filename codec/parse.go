package codec

import "bytes"

// Default limits. A request line of 8 KiB is what RFC 9112 §3 recommends a
// server to support at least; 64 KiB of head is ample for real browsers,
// whose heads stay under 8 KiB, and small enough that a loop's buffer bounds
// what a client can make the proxy hold.
const (
	DefaultMaxRequestLine = 8 << 10
	DefaultMaxHeaderBytes = 64 << 10
	DefaultMaxHeaders     = 100
)

// Limits bound what one request head may use. Zero fields take the defaults
// above; a nil *Limits means all defaults.
type Limits struct {
	// MaxRequestLine bounds the request line without its CRLF. A longer one
	// is refused with ErrURITooLong (414) as soon as the bytes show it.
	MaxRequestLine int
	// MaxHeaderBytes bounds the whole head, from the first byte to the empty
	// line included. A longer one is refused with ErrHeaderTooLarge (431).
	MaxHeaderBytes int
	// MaxHeaders bounds the number of field lines (ErrHeaderTooLarge).
	MaxHeaders int
}

// values returns the effective limits of l, defaults filled in.
func (l *Limits) values() (line, head, fields int) {
	line, head, fields = DefaultMaxRequestLine, DefaultMaxHeaderBytes, DefaultMaxHeaders
	if l == nil {
		return
	}
	if l.MaxRequestLine > 0 {
		line = l.MaxRequestLine
	}
	if l.MaxHeaderBytes > 0 {
		head = l.MaxHeaderBytes
	}
	if l.MaxHeaders > 0 {
		fields = l.MaxHeaders
	}
	return
}

// Parser is the per-connection state of the request-head parser: how far the
// buffered bytes have been searched for the end of the head. Its zero value
// is ready; it resets itself after each complete head and after each error.
// A Parser is not safe for concurrent use; one belongs to one connection.
type Parser struct {
	off   int // bytes of b already searched for LF
	line  int // offset of the line being scanned
	lines int // complete non-empty lines seen: the request line, then fields

	// scanned counts the bytes handed to the LF search since the last Reset;
	// tests read it to prove that a trickling request is scanned once.
	scanned int
}

// Reset forgets any partly scanned head. Call it when the connection's
// buffered bytes no longer start where the previous call's did.
func (p *Parser) Reset() {
	*p = Parser{}
}

// Parse parses the request head at the start of b, which holds every byte
// the connection has buffered since the end of the previous request. It
// resets r and fills it with views into b, valid as long as b's bytes are.
//
// It returns n, the length of the head including its final CRLF CRLF (and
// any empty lines before the request line, RFC 9112 §2.2); the body, or the
// next pipelined request, starts at b[n]. When the head has not fully
// arrived it returns ErrNeedMore and remembers how far it searched: the next
// call must pass the same bytes with more appended, and only the new bytes
// are searched. The head is parsed field by field once, when its end is
// found. Any other error is a sentinel from errors.go and the request must be
// refused; a limit is reported as soon as the bytes exceed it, without
// waiting for the end of the head.
//
// Lines must end with CRLF: a bare LF is refused with ErrBareLF and a bare CR
// with ErrBareCR. Parse does not allocate once r.Headers has grown to the
// number of fields the connection's requests carry.
func (p *Parser) Parse(b []byte, r *Request, lim *Limits) (n int, err error) {
	r.Reset()
	maxLine, maxHead, maxFields := lim.values()
	if p.off > len(b) {
		p.Reset()
	}
	n, err = p.scan(b, maxLine, maxHead, maxFields)
	if err == nil {
		err = parseHead(b[:n], r)
	}
	if err != nil {
		if err == ErrNeedMore {
			return 0, err
		}
		p.Reset()
		return 0, err
	}
	p.Reset()
	return n, nil
}

// scan searches b from where the previous call stopped for the empty line
// that ends the head, enforcing the limits line by line. It returns the
// length of the head, or ErrNeedMore.
func (p *Parser) scan(b []byte, maxLine, maxHead, maxFields int) (int, error) {
	end := min(len(b), maxHead)
	for p.off < end {
		i := bytes.IndexByte(b[p.off:end], '\n')
		if i < 0 {
			p.scanned += end - p.off
			p.off = end
			break
		}
		p.scanned += i + 1
		lf := p.off + i
		p.off = lf + 1
		// RFC 9112 §3: a request line longer than the server accepts is
		// answered with 414. Checked before the line terminator, so the
		// verdict does not depend on how the bytes were split.
		if p.lines == 0 && lf > p.line+maxLine+1 {
			return 0, ErrURITooLong
		}
		if lf == p.line || b[lf-1] != '\r' {
			return 0, ErrBareLF
		}
		if lf-1 == p.line {
			if p.lines == 0 {
				// RFC 9112 §2.2: empty lines before the request line are
				// ignored. They still count towards maxHead, which bounds them.
				p.line = lf + 1
				continue
			}
			return lf + 1, nil
		}
		p.lines++
		if p.lines-1 > maxFields {
			return 0, ErrHeaderTooLarge
		}
		p.line = lf + 1
	}
	if p.lines == 0 && end > p.line+maxLine+1 {
		return 0, ErrURITooLong
	}
	if len(b) >= maxHead {
		// RFC 6585 §5: 431 for a head larger than the server will hold.
		return 0, ErrHeaderTooLarge
	}
	return 0, ErrNeedMore
}

// parseHead parses a complete head, h = the bytes scan accepted: optional
// empty lines, the request line, field lines, each ending in CRLF, and the
// final CRLF.
func parseHead(h []byte, r *Request) error {
	for len(h) >= 2 && h[0] == '\r' && h[1] == '\n' {
		h = h[2:]
	}
	i := bytes.IndexByte(h, '\n')
	if err := parseRequestLine(h[:i-1], r); err != nil {
		return err
	}
	return parseFields(h[i+1:len(h)-2], r)
}

// fieldValue marks the bytes allowed in a field value (RFC 9110 §5.5): VCHAR,
// obs-text, SP and HTAB. Every other control byte, NUL included, is refused.
var fieldValue = func() (t [256]bool) {
	for c := 0x21; c < 0x100; c++ {
		t[c] = c != 0x7f
	}
	t[' '], t['\t'] = true, true
	return t
}()

// splitField splits one field line, without its CRLF, into its name and its
// value with the surrounding whitespace trimmed.
func splitField(line []byte) (name, value []byte, err error) {
	if line[0] == ' ' || line[0] == '\t' {
		// RFC 9112 §5.2: a server must reject obs-fold (or replace it, which
		// a proxy cannot do without changing what the origin sees).
		return nil, nil, ErrObsFold
	}
	i := 0
	for i < len(line) && tchar[line[i]] {
		i++
	}
	if i == len(line) {
		return nil, nil, ErrHeaderName
	}
	switch c := line[i]; {
	case c == ':' && i > 0:
	case c == ' ' || c == '\t':
		// RFC 9112 §5.1: whitespace between name and colon must be
		// rejected with 400; it has been used to smuggle requests.
		return nil, nil, ErrSpaceBeforeColon
	case c == '\r':
		return nil, nil, ErrBareCR
	default:
		return nil, nil, ErrHeaderName
	}
	name, value = line[:i], line[i+1:]
	for _, c := range value {
		if !fieldValue[c] {
			if c == '\r' {
				return nil, nil, ErrBareCR
			}
			return nil, nil, ErrHeaderValue
		}
	}
	return name, TrimOWS(value), nil
}
