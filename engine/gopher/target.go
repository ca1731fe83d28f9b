package gopher

import (
	"mime"
	"path"
	"strconv"
	"strings"

	"edgeproxy/engine/internal/urlpart"
)

// Target is a gopher:// URL taken apart (RFC 4266 §2):
// gopher://host[:port]/<type><selector>, and for type 7 "?" and the search.
type Target struct {
	Host      string // as written, brackets kept for an IPv6 literal
	Port      int
	Type      byte
	Selector  string // decoded
	Search    string // decoded; type 7 only
	HasSearch bool
}

// ParseURL builds a Target from the parts of a gopher:// request target:
// host, port (empty for 70) and the raw path. An empty path is the
// server's root menu.
func ParseURL(host, port, rawPath []byte) (*Target, error) {
	t := &Target{Host: string(host), Type: '1'}
	var ok bool
	if t.Port, ok = urlpart.Port(port, 70); !ok {
		return nil, ErrSelector
	}
	p := strings.TrimPrefix(string(rawPath), "/")
	if p == "" {
		return t, nil
	}
	t.Type = p[0]
	sel := p[1:]
	switch t.Type {
	case '2', '8', 'T', 'i', '3':
		return nil, ErrType
	case '7':
		if s, q, ok := strings.Cut(sel, "?"); ok {
			sel, t.HasSearch = s, true
			var err error
			if t.Search, err = search(q); err != nil {
				return nil, err
			}
		}
	}
	var err error
	if t.Selector, err = unescape(sel, false); err != nil {
		return nil, err
	}
	return t, nil
}

// search decodes a type-7 query: the raw search string a Gopher client
// sends, or the q field of the form this package renders.
func search(q string) (string, error) {
	if v, ok := strings.CutPrefix(q, "q="); ok {
		return unescape(v, true)
	}
	return unescape(q, false)
}

// Addr is the address to connect to, host:port.
func (t *Target) Addr() string {
	return urlpart.Addr(t.Host, t.Port)
}

// Request is the line sent to the server (RFC 1436 §2): the selector, a
// TAB and the search for a search, then CRLF.
func (t *Target) Request() string {
	if t.HasSearch {
		return t.Selector + "\t" + t.Search + "\r\n"
	}
	return t.Selector + "\r\n"
}

// Menu reports whether the answer is a menu, rendered as HTML.
func (t *Target) Menu() bool { return t.Type == '1' || t.Type == '7' && t.HasSearch }

// ContentType is the type of the response body by item type; images, sound
// and documents go by the selector's extension when it names one.
func (t *Target) ContentType() string {
	switch t.Type {
	case '0':
		return "text/plain"
	case '1', '7':
		return "text/html; charset=utf-8"
	case '4':
		return "application/mac-binhex40"
	case '6':
		return "text/x-uuencode"
	case 'g':
		return "image/gif"
	case 'p':
		return "image/png"
	case 'h':
		return "text/html"
	case 'I', 's', 'd', ';':
		if ct := mime.TypeByExtension(path.Ext(t.Selector)); ct != "" {
			return ct
		}
	}
	return "application/octet-stream"
}

// unescape percent-decodes s ('+' as a space too when form is set) and
// refuses CR, LF, TAB and NUL.
func unescape(s string, form bool) (string, error) {
	d, ok := urlpart.Unescape(s, form, "\r\n\t\x00")
	if !ok {
		return "", ErrSelector
	}
	return d, nil
}

// escape percent-encodes a selector for a URL path: everything but RFC
// 3986's unreserved bytes, '/' and a few sub-delims.
func escape(s string) string { return urlpart.Escape(s, "-._~/!$()*,=:@") }

// URL is the gopher:// URL of an item.
func URL(host string, port int, typ byte, selector string) string {
	var b strings.Builder
	b.WriteString("gopher://")
	b.WriteString(strings.ToLower(host))
	if port != 70 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(port))
	}
	b.WriteByte('/')
	b.WriteByte(typ)
	b.WriteString(escape(selector))
	return b.String()
}
