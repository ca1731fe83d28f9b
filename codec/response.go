package codec

// Response limits. 64 KiB of head is what the engine's
// limits.max_response_header defaults to: real origins stay far below it
// (large Set-Cookie or Content-Security-Policy sets reach some KiB), and a
// bound keeps an origin from making the proxy buffer without end.
const (
	DefaultMaxResponseHeader = 64 << 10
	// MaxResponseFields bounds the field lines of a response head, so the
	// Headers slice a connection reuses stays small.
	MaxResponseFields = 1000
)

// Framing is how a response body is delimited (RFC 9112 §6.3).
type Framing uint8

// The four framings of a response body.
const (
	// FramingNone: no body follows the head. The response answers HEAD, or
	// its status is 1xx, 204 or 304, whatever its fields say.
	FramingNone Framing = iota
	// FramingLength: exactly ContentLength bytes follow (possibly 0).
	FramingLength
	// FramingChunked: the chunked transfer coding (RFC 9112 §7.1).
	FramingChunked
	// FramingClose: the body runs until the origin closes the connection.
	FramingClose
)

// Response is a parsed response head. Every slice is a view into the buffer
// that was passed to ResponseParser.Parse and is valid only as long as those
// bytes are. A Response is reused across parses; Reset keeps the capacity of
// Headers, so a steady-state parse allocates nothing.
type Response struct {
	// Minor is the HTTP/1 minor version: 0 or 1 (a higher 1.x is 1).
	Minor  uint8
	Status int
	Reason []byte

	Headers []Header

	// Framing says how the body is delimited. ContentLength is the value of
	// the Content-Length field, or -1 when there is none; it is kept for a
	// response to HEAD or a 304, where it describes the representation and
	// does not frame anything.
	Framing       Framing
	ContentLength int64

	// Close means the connection ends after this response: the origin sent
	// Connection: close, spoke HTTP/1.0 without keep-alive, or delimits the
	// body by closing (RFC 9112 §9.3).
	Close bool

	// KeepAliveTimeout is the timeout parameter of a Keep-Alive field
	// (RFC 2068 §19.7.1.1, still sent by Apache, nginx and Node): the
	// seconds the origin keeps an idle connection open. 0 if absent.
	KeepAliveTimeout int
}

// Reset clears r for the next parse and keeps the capacity of Headers.
func (r *Response) Reset() {
	h := r.Headers[:0]
	*r = Response{Headers: h, ContentLength: -1}
}

// Interim reports a 1xx response other than 101: a head that a final
// response follows on the same connection (RFC 9110 §15.2).
func (r *Response) Interim() bool {
	return r.Status >= 100 && r.Status < 200 && r.Status != 101
}

// Header returns the value of the first field named name, compared
// case-insensitively, or nil.
func (r *Response) Header(name string) []byte {
	for i := range r.Headers {
		if EqualFold(r.Headers[i].Name, name) {
			return r.Headers[i].Value
		}
	}
	return nil
}

// HasToken reports whether any field named name lists token in its
// comma-separated value, both compared case-insensitively.
func (r *Response) HasToken(name, token string) bool {
	for i := range r.Headers {
		if EqualFold(r.Headers[i].Name, name) && ListHas(r.Headers[i].Value, token) {
			return true
		}
	}
	return false
}

// HasTokenBytes is HasToken for a token held in bytes, such as a field name
// to look up in Connection.
func (r *Response) HasTokenBytes(name string, token []byte) bool {
	for i := range r.Headers {
		if EqualFold(r.Headers[i].Name, name) && ListHasBytes(r.Headers[i].Value, token) {
			return true
		}
	}
	return false
}

// ResponseParser is the per-connection state of the response-head parser:
// how far the buffered bytes have been searched for the end of the head.
// Its zero value is ready; it resets itself after each complete head and
// after each error. It is not safe for concurrent use.
type ResponseParser struct {
	scan Parser // the request parser's line scanner, shared
}

// Reset forgets any partly scanned head.
func (p *ResponseParser) Reset() { p.scan.Reset() }

// Parse parses the response head at the start of b, every byte the origin
// connection has buffered since the end of the previous message. head says
// the request was HEAD, whose response has no body (RFC 9112 §6.3 rule 1).
// maxHead bounds the head, final CRLF included; 0 means
// DefaultMaxResponseHeader. It resets r and fills it with views into b.
//
// It returns n, the length of the head; the body (or the next interim or
// final response after a 1xx) starts at b[n]. An incomplete head yields
// ErrNeedMore, and the next call must pass the same bytes with more
// appended: only the new bytes are searched. Bytes that cannot start a
// status line are refused at once, so garbage from an origin is not waited
// on. Lines must end in CRLF (ErrBareLF, ErrBareCR), obs-fold is refused
// (ErrObsFold), and the framing rules of RFC 9112 §6.3 are applied strictly:
// Transfer-Encoding with Content-Length, a second Content-Length, or a
// transfer coding other than a single chunked are errors, not guesses.
func (p *ResponseParser) Parse(b []byte, r *Response, head bool, maxHead int) (n int, err error) {
	r.Reset()
	if maxHead <= 0 {
		maxHead = DefaultMaxResponseHeader
	}
	if p.scan.off > len(b) {
		p.scan.Reset()
	}
	if !statusPrefix(b) {
		p.scan.Reset()
		return 0, ErrStatusLine
	}
	n, err = p.scan.scan(b, maxHead, maxHead, MaxResponseFields)
	if err == nil {
		err = parseResponseHead(b[:n], r, head)
	}
	if err == ErrNeedMore {
		return 0, err
	}
	p.scan.Reset()
	if err != nil {
		if err == ErrHeaderTooLarge {
			err = ErrResponseHeaderTooLarge
		}
		return 0, err
	}
	return n, nil
}

// statusPrefix reports whether b could begin a status line: "HTTP/" or a
// prefix of it. The name is case-sensitive (RFC 9112 §2.3). An empty line
// before the status line is refused too: on a connection whose previous
// message ended exactly, it is a byte the origin should not have sent.
func statusPrefix(b []byte) bool {
	const name = "HTTP/"
	k := min(len(b), len(name))
	return string(b[:k]) == name[:k]
}

// parseResponseHead parses a complete head: the status line and the field
// lines, each ending in CRLF, and the final CRLF.
func parseResponseHead(h []byte, r *Response, head bool) error {
	i := 0
	for h[i] != '\n' {
		i++
	}
	if err := parseStatusLine(h[:i-1], r); err != nil {
		return err
	}
	return parseResponseFields(h[i+1:len(h)-2], r, head)
}

// parseStatusLine parses HTTP-version SP status-code SP [reason-phrase]
// (RFC 9112 §4). A line that ends right after the code, with no SP, is
// accepted as an empty reason, as browsers and net/http accept it.
func parseStatusLine(line []byte, r *Response) error {
	if len(line) < len("HTTP/1.1 200") || line[6] != '.' || line[8] != ' ' {
		return ErrStatusLine
	}
	if !isDigit(line[5]) || !isDigit(line[7]) {
		return ErrStatusLine
	}
	if line[5] != '1' {
		return ErrVersionNotSupported
	}
	r.Minor = min(line[7]-'0', 1)
	code := 0
	for _, c := range line[9:12] {
		if !isDigit(c) {
			return ErrStatusLine
		}
		code = code*10 + int(c-'0')
	}
	// RFC 9110 §15: valid status codes lie within 100–599.
	if code < 100 || code > 599 {
		return ErrStatusLine
	}
	r.Status = code
	if len(line) == 12 {
		return nil
	}
	if line[12] != ' ' {
		return ErrStatusLine
	}
	for _, c := range line[13:] {
		if !fieldValue[c] {
			if c == '\r' {
				return ErrBareCR
			}
			return ErrStatusLine
		}
	}
	r.Reason = line[13:]
	return nil
}
