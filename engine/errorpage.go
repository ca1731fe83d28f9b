package engine

import (
	"bytes"
	"errors"
	"net/netip"
	"syscall"
	"time"

	"edgeproxy/codec"
	"edgeproxy/engine/errpage"
	"edgeproxy/engine/origin"
)

// errorTo says who an error response goes to: whether the client takes an
// HTML page (its Accept lists text/html), the request it made, and any
// detail the page names (the rule that refused it). A nil *errorTo is a
// client whose request could not be read: it gets plain text.
type errorTo struct {
	html   bool
	head   bool // HEAD: the response carries no body
	method string
	url    string
	detail string
	client netip.Addr
}

// ctype is the Content-Type of the error response to.
func (to *errorTo) ctype() string {
	if to != nil && to.html {
		return ctypeHTML
	}
	return ctypeText
}

// errorFor describes r's client for an error response. The strings view
// r, so the result is valid only while r is.
func (cc *clientConn) errorFor(r *codec.Request) errorTo {
	return errorTo{html: acceptsHTML(r.Header("Accept")), head: string(r.Method) == "HEAD",
		method: view(r.Method), url: view(r.Target), client: cc.remote}
}

// errorFor describes the exchange's client for an error response.
func (ex *exchange) errorFor() *errorTo {
	var client netip.Addr
	if ex.cc != nil {
		client = ex.cc.remote
	}
	return &errorTo{html: ex.html, head: ex.head, method: ex.method, url: ex.target, client: client}
}

// acceptsHTML reports whether an Accept field value lists text/html with a
// non-zero weight (RFC 9110 §12.5.1), as every browser's navigation does.
// Wildcards do not count: curl's */* gets plain text.
func acceptsHTML(accept []byte) bool {
	for len(accept) > 0 {
		var item []byte
		if i := bytes.IndexByte(accept, ','); i >= 0 {
			item, accept = accept[:i], accept[i+1:]
		} else {
			item, accept = accept, nil
		}
		item = codec.TrimOWS(item)
		typ, params := item, []byte(nil)
		if i := bytes.IndexByte(item, ';'); i >= 0 {
			typ, params = codec.TrimOWS(item[:i]), item[i+1:]
		}
		if !codec.EqualFold(typ, "text/html") {
			continue
		}
		return !zeroWeight(params)
	}
	return false
}

// zeroWeight reports whether media-type parameters carry q=0 (or 0.0...).
func zeroWeight(params []byte) bool {
	for len(params) > 0 {
		var p []byte
		if i := bytes.IndexByte(params, ';'); i >= 0 {
			p, params = params[:i], params[i+1:]
		} else {
			p, params = params, nil
		}
		p = codec.TrimOWS(p)
		if len(p) < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=' {
			continue
		}
		for _, c := range p[2:] {
			if c != '0' && c != '.' {
				return false
			}
		}
		return true
	}
	return false
}

// Content types of the error responses, also written to the access log.
const (
	ctypeText = "text/plain; charset=utf-8"
	ctypeHTML = "text/html; charset=utf-8"
)

// errorResponse appends a complete response for err: its status line and
// appendErrorRest.
func (s *Server) errorResponse(dst []byte, err error, close bool, to *errorTo) []byte {
	code, _ := statusFor(err)
	dst = codec.AppendStatusLine(dst, code)
	return s.appendErrorRest(dst, err, close, to)
}

// appendErrorRest appends the fields and body of an error response after
// its status line (and any fields of the caller's, such as a challenge):
// for an HTML client the page of err, otherwise one line of text that names
// the cause. Plain text allocates nothing; the HTML page is rendered on
// demand.
func (s *Server) appendErrorRest(dst []byte, err error, close bool, to *errorTo) []byte {
	code, text := statusFor(err)
	var page []byte
	ctype := ctypeText
	length := len(text) + 1
	if to != nil && to.detail != "" {
		length += 1 + len(to.detail)
	}
	if to != nil && to.html {
		page = s.renderError(err, code, text, to)
		ctype, length = ctypeHTML, len(page)
	}
	dst = codec.AppendHeaderString(dst, "Content-Type", ctype)
	dst = codec.AppendHeaderInt(dst, "Content-Length", int64(length))
	dst = append(dst, "Date: "...)
	dst = codec.AppendHTTPDate(dst, time.Now())
	dst = append(dst, "\r\n"...)
	if to != nil && to.html {
		dst = codec.AppendHeaderString(dst, "Cache-Control", "no-store")
	}
	dst = appendConnection(dst, close)
	dst = append(dst, "\r\n"...)
	switch {
	case to != nil && to.head:
	case page != nil:
		dst = append(dst, page...)
	default:
		dst = append(dst, text...)
		if to != nil && to.detail != "" {
			dst = append(dst, ' ')
			dst = append(dst, to.detail...)
		}
		dst = append(dst, '\n')
	}
	return dst
}

// renderError renders the HTML page of err for to.
func (s *Server) renderError(err error, code int, text string, to *errorTo) []byte {
	name, title, hint := pageFor(err, code)
	p := errpage.Page{
		Status: code, Reason: codec.StatusText(code), Name: name, Title: title, Text: text, Hint: hint,
		Detail: to.detail, Method: to.method, URL: to.url, Proxy: s.set.name, Time: time.Now(),
	}
	if to.client.IsValid() {
		p.Client = to.client.Unmap().String()
	}
	pages := errpage.Default()
	if pol := s.pol.Load(); pol != nil && pol.pages != nil {
		pages = pol.pages
	}
	return pages.Append(make([]byte, 0, 4096), &p)
}

// pageFor names err's page as Squid names its ERR pages, with a title and
// what the user can try. An error without an entry of its own gets a page
// chosen by its status, so every refusal has a page.
func pageFor(err error, status int) (name, title, hint string) {
	const retry = "Wait a moment and reload the page. If the problem persists, contact the proxy administrator."
	switch {
	case errors.Is(err, ErrRuleDenied):
		return "ERR_ACCESS_DENIED", "Access denied",
			"This address is blocked by the proxy's access rules. If you need it for your work, ask the proxy administrator to allow it."
	case errors.Is(err, ErrClientDenied):
		return "ERR_ACCESS_DENIED", "Access denied",
			"Your computer's address may not use this proxy. Ask the proxy administrator to add your network to the allowed ones."
	case errors.Is(err, ErrPurgeDenied):
		return "ERR_ACCESS_DENIED", "Access denied", "Send PURGE from a host in the admin networks (acl.admin_file)."
	case errors.Is(err, ErrTunnelPort):
		return "ERR_ACCESS_DENIED", "Port not allowed",
			"The proxy only opens tunnels to the ports in tunnel.allowed_ports. Use the site's usual port, or ask the proxy administrator."
	case errors.Is(err, ErrProxyAuth):
		return "ERR_CACHE_ACCESS_DENIED", "Proxy login required",
			"Reload the page and enter your proxy user name and password when the browser asks for them."
	case errors.Is(err, ErrForwardLoop):
		return "ERR_CANNOT_FORWARD", "Forwarding loop", "The proxy is configured to send requests to itself. Tell the proxy administrator."
	case errors.Is(err, ErrScheme):
		return "ERR_UNSUP_REQ", "Unsupported request", "Only http and https addresses can be fetched through this proxy."
	case errors.Is(err, ErrNotProxyRequest):
		return "ERR_INVALID_URL", "This is a proxy, not a web site",
			"Configure this address as your browser's HTTP proxy, or use its auto-configuration file at /proxy.pac."
	case errors.Is(err, ErrOnlyIfCached):
		return "ERR_ONLY_IF_CACHED_MISS", "Not in the cache", "Reload the page without offline mode to fetch it from the web site."
	case errors.Is(err, ErrRequestTimeout):
		return "ERR_LIFETIME_EXP", "Request timed out", "Check your network connection and reload the page."
	case errors.Is(err, ErrConnectTimeout):
		return "ERR_CONNECT_FAIL", "Connection timed out",
			"The web site did not accept a connection in time. It may be down or unreachable; try again later."
	case errors.Is(err, ErrOverload), errors.Is(err, ErrTooManyConns), errors.Is(err, origin.ErrTooManyConns):
		return "ERR_CANNOT_FORWARD", "The proxy is busy", retry
	case errors.Is(err, syscall.ECONNREFUSED):
		return "ERR_CONNECT_FAIL", "Connection refused",
			"The web site may be down or not serving on this port. Check the address, and try again later."
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, origin.ErrClosed):
		return "ERR_ZERO_SIZE_OBJECT", "No response from the web site", retry
	}
	switch {
	case status == 403:
		return "ERR_ACCESS_DENIED", "Access denied", "If you think you should be allowed, contact the proxy administrator."
	case status == 504 || status == 408:
		return "ERR_READ_TIMEOUT", "The web site did not answer in time", "The web site may be overloaded or down. Try again later."
	case status == 502:
		if isDNS(err) {
			return "ERR_DNS_FAIL", "Unknown host name", "Check the spelling of the address. If it is right, the name may not exist or DNS may be failing."
		}
		return "ERR_READ_ERROR", "The web site could not be reached", retry
	case status == 503:
		return "ERR_CANNOT_FORWARD", "Service unavailable", retry
	case status == 407:
		return "ERR_CACHE_ACCESS_DENIED", "Proxy login required", "Enter your proxy user name and password."
	case status == 416:
		return "ERR_INVALID_REQ", "Range not satisfiable", "Reload the whole page."
	case status == 505:
		return "ERR_UNSUP_HTTPVERSION", "HTTP version not supported", "Use a browser or client that speaks HTTP/1.1."
	case status >= 400 && status < 500:
		return "ERR_INVALID_REQ", "Invalid request", "The request could not be understood. Check the address and reload the page."
	}
	return "ERR_GATEWAY_FAILURE", "The request could not be completed", retry
}
