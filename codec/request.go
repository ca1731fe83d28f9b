package codec

// Form is the shape of a request-target (RFC 9112 §3.2).
type Form uint8

// The four request-target forms.
const (
	FormOrigin    Form = iota // "/path?query": a request addressed to the proxy itself
	FormAbsolute              // "http://host:port/path?query": a request to forward
	FormAuthority             // "host:port": CONNECT
	FormAsterisk              // "*": server-wide OPTIONS
)

// Header is one field line: views of its name and of its value with the
// surrounding whitespace trimmed.
type Header struct {
	Name, Value []byte
}

// Request is a parsed request head. Every slice is a view into the buffer that
// was passed to Parser.Parse and is valid only as long as those bytes are:
// anything kept longer must be copied.
//
// A Request is reused across parses; Reset keeps the capacity of Headers, so a
// steady-state parse allocates nothing.
type Request struct {
	Method []byte
	Target []byte // the raw request-target
	Form   Form

	// The parts of an absolute-form or authority-form target. Scheme is as
	// written (compare it case-insensitively); Host is the host without port,
	// with brackets kept for an IPv6 literal; Port is empty when absent.
	// Path is the path and query of an absolute-form or origin-form target; it
	// is empty for an absolute-form target with no path, which is sent as "/".
	Scheme, Host, Port, Path []byte

	// Userinfo is the user[:password] of an ftp:// target, without the '@'.
	// Only ftp:// targets may carry one (RFC 1738 §3.1): every other
	// scheme's userinfo is refused (see splitAuthority).
	Userinfo []byte

	// Minor is the HTTP/1 minor version: 0 or 1. A higher 1.x minor is
	// reported as 1 (RFC 9110 §6.2); any major other than 1 is refused.
	Minor uint8

	Headers []Header

	// HostHeader is the value of the single Host field, if any.
	HostHeader []byte

	// ContentLength is the body length, or -1 when the request has no
	// Content-Length. Chunked means Transfer-Encoding: chunked. A request with
	// neither has no body (RFC 9112 §6.3 rule 6).
	ContentLength int64
	Chunked       bool

	// Close means the connection ends after this exchange: the client sent
	// Connection: close, or spoke HTTP/1.0 without Connection: keep-alive
	// (RFC 9112 §9.3).
	Close bool

	// Expect100 means Expect: 100-continue (RFC 9110 §10.1.1).
	Expect100 bool
}

// Reset clears r for the next parse and keeps the capacity of Headers.
func (r *Request) Reset() {
	h := r.Headers[:0]
	*r = Request{Headers: h, ContentLength: -1}
}

// HasBody reports whether a message body follows the head.
func (r *Request) HasBody() bool {
	return r.Chunked || r.ContentLength > 0
}

// Header returns the value of the first field named name, compared
// case-insensitively, or nil.
func (r *Request) Header(name string) []byte {
	for i := range r.Headers {
		if EqualFold(r.Headers[i].Name, name) {
			return r.Headers[i].Value
		}
	}
	return nil
}

// HasToken reports whether any field named name lists token in its
// comma-separated value, both compared case-insensitively.
func (r *Request) HasToken(name, token string) bool {
	for i := range r.Headers {
		if EqualFold(r.Headers[i].Name, name) && ListHas(r.Headers[i].Value, token) {
			return true
		}
	}
	return false
}
