package engine

import (
	"errors"
	"net"
	"os"
	"strconv"
	"syscall"

	"github.com/panjf2000/ants/v2"
	"github.com/valyala/fasthttp"

	"edgeproxy/codec"
	"edgeproxy/engine/acl"
	"edgeproxy/engine/ftp"
	"edgeproxy/engine/gopher"
)

// Refusals the engine decides on itself. Each maps to one status in statusFor.
var (
	// ErrOverload means every origin worker is busy: answered 503 at once
	// rather than queued.
	ErrOverload = errors.New("engine: all origin workers busy")
	// ErrTooManyConns means limits.max_connections client connections are open.
	ErrTooManyConns = errors.New("engine: too many client connections")
	// ErrClientConns means the client's address already has
	// limits.max_connections_per_client connections open.
	ErrClientConns = errors.New("engine: too many connections from this client address")
	// ErrClientWorkers means the client's address already holds
	// limits.max_workers_per_client workers.
	ErrClientWorkers = errors.New("engine: this client holds its share of the origin workers")
	// ErrBodyTimeout means a streamed request body fell below
	// limits.min_body_rate once timeouts.client_body had passed.
	ErrBodyTimeout = errors.New("engine: request body too slow")
	// ErrOriginHead means the origin sent a response head the proxy does
	// not accept: a line ended by a bare LF (RFC 9112 §2.2).
	ErrOriginHead = errors.New("engine: invalid origin response head")
	// ErrForwardLoop means the request's Via already names this proxy
	// (RFC 9110 §7.6.3): forwarding it again would loop.
	ErrForwardLoop = errors.New("engine: forwarding loop detected")
	// ErrScheme means an absolute-form target whose scheme is none of http,
	// https, ftp and gopher.
	ErrScheme = errors.New("engine: unsupported URL scheme")
	// ErrInterceptForm means a request on an intercept or tproxy listener
	// that is not in origin form: an intercepted client talks to the
	// origin, never to a proxy (issue 15).
	ErrInterceptForm = errors.New("engine: intercepted request not in origin form")
	// ErrSchemePort means an ftp:// or gopher:// URL naming a port outside
	// ftp.allowed_ports or gopher.allowed_ports.
	ErrSchemePort = errors.New("engine: port not allowed for this URL scheme")
	// ErrSchemeMethod means a method the ftp:// or gopher:// scheme does not
	// support (FTP: GET, HEAD, PUT; Gopher: GET, HEAD).
	ErrSchemeMethod = errors.New("engine: method not supported for this URL scheme")
	// ErrFTPUpload means PUT to an ftp:// URL while ftp.upload is off.
	ErrFTPUpload = errors.New("engine: FTP uploads are not allowed")
	// ErrNotProxyRequest means an origin-form request for a resource the proxy
	// does not serve itself.
	ErrNotProxyRequest = errors.New("engine: not a proxy request")
	// ErrNoParent means no parent proxy is up and upstream.never_direct
	// forbids going to the origin directly (issue 14).
	ErrNoParent = errors.New("engine: no parent proxy is up")
	// ErrHopUnreachable means a cluster peer or parent proxy refused or
	// timed out the connection; it is marked down (issue 14).
	ErrHopUnreachable = errors.New("engine: cluster peer or parent proxy unreachable")
	// ErrTunnelPort means CONNECT to a port not in tunnel.allowed_ports.
	ErrTunnelPort = errors.New("engine: CONNECT to this port is not allowed")
	// ErrClientDenied means the client address is not allowed to use the proxy.
	ErrClientDenied = errors.New("engine: client address not allowed")
	// ErrRequestTimeout means the client took longer than timeouts.client_header
	// to send a request head or a buffered body.
	ErrRequestTimeout = errors.New("engine: client request timeout")
	// ErrConnectTimeout means the origin did not accept a connection within
	// timeouts.origin_connect.
	ErrConnectTimeout = errors.New("engine: origin connect timed out")
	// ErrOriginTLS means the TLS handshake with an https:// origin failed:
	// its certificate was not trusted, or the handshake broke off.
	ErrOriginTLS = errors.New("engine: origin TLS handshake failed")
	// ErrOnlyIfCached means a request with only-if-cached found nothing it
	// could use in the cache (RFC 9111 §5.2.1.7).
	ErrOnlyIfCached = errors.New("engine: not in cache (only-if-cached)")
	// ErrPurgeDenied means PURGE from a client outside the admin networks.
	ErrPurgeDenied = errors.New("engine: PURGE not allowed from this address")
	// ErrRuleDenied means a destination rule refused the request; the
	// page names the rule.
	ErrRuleDenied = errors.New("engine: denied by a destination rule")
	// ErrProxyAuth means the request carried no valid proxy credentials
	// (RFC 9110 §11.7.1).
	ErrProxyAuth = errors.New("engine: proxy authentication required")
	// ErrBodyLength means the client's request body ended before its
	// Content-Length or its chunked framing was complete.
	ErrBodyLength = errors.New("engine: request body incomplete")
	// ErrAuthLimited means a client address that used up its failed
	// authentications (auth.max_failures) sent credentials that are not
	// already verified: refused without hashing them.
	ErrAuthLimited = errors.New("engine: too many failed authentications from this address")
	// ErrAuthBusy means the queue of costly password checks
	// (auth.hash_queue) is full: answered 503 at once rather than queued.
	ErrAuthBusy = errors.New("engine: password check queue full")
)

// ruleDenied is a destination rule's refusal decided only once the host
// name was resolved, on a worker; it carries the rule's name for the page.
type ruleDenied struct{ rule string }

func (e *ruleDenied) Error() string { return "engine: access denied by rule " + e.rule }

// errTooBig stops a background fetch whose body passed its size cap; no
// client ever sees it.
var errTooBig = errors.New("engine: background fetch over its size cap")

// The origin.Handler of a cache fill ends its exchange early with these;
// none reaches a client (fill_loop.go).
var (
	// errFillStale: the origin failed and stale-if-error serves the
	// stored response instead.
	errFillStale = errors.New("engine: origin failed, serving stale")
	// errFillSkip: a prefetch does not read a body it will not store.
	errFillSkip = errors.New("engine: prefetch skips the body")
	// errFillGone: the client went away and nothing wants the rest.
	errFillGone = errors.New("engine: fill abandoned with its client")
)

// statusFor maps an error to the status and the short text the client gets.
// It is the only place that makes this decision (Caddy's reverse proxy does
// the same: a timeout is 504, any other origin failure 502).
func statusFor(err error) (int, string) {
	if code, text, ok := originStatus(err); ok {
		return code, text
	}
	switch {
	case errors.Is(err, ErrOverload), errors.Is(err, ants.ErrPoolOverload):
		return 503, "the proxy is at its limit of concurrent origin fetches; retry shortly"
	case errors.Is(err, ErrAuthLimited):
		return 403, "too many failed authentications from your address; retry later (auth.max_failures)"
	case errors.Is(err, ErrAuthBusy):
		return 503, "the proxy is at its limit of password checks; retry shortly (auth.hash_queue)"
	case errors.Is(err, ErrTooManyConns):
		return 503, "the proxy is at its connection limit; retry shortly"
	case errors.Is(err, ErrClientConns):
		return 503, "too many connections from your address (limits.max_connections_per_client); retry shortly"
	case errors.Is(err, ErrClientWorkers):
		return 503, "your address is at its share of concurrent origin fetches (limits.max_workers_per_client); retry shortly"
	case errors.Is(err, ErrBodyTimeout):
		return 408, "request body not received in time (limits.min_body_rate)"
	case errors.Is(err, ErrOriginTLS):
		return 502, "the TLS handshake with the origin failed"
	case errors.Is(err, ErrOriginHead):
		return 502, "the origin sent an invalid response head"
	case errors.Is(err, ErrNoParent):
		return 503, "no parent proxy is up, and upstream.never_direct forbids going to the origin directly"
	case errors.Is(err, ErrHopUnreachable):
		return 502, "the cluster peer or parent proxy could not be reached"
	case errors.As(err, new(*parentRefusal)):
		var pr *parentRefusal
		errors.As(err, &pr)
		return pr.status(), "the parent proxy refused the tunnel"
	case errors.Is(err, ErrForwardLoop):
		return 508, "forwarding loop: this request has already passed through this proxy"
	case errors.Is(err, ErrInterceptForm):
		return 400, "this port receives intercepted traffic: send origin-form requests (GET /path) with a Host field"
	case errors.Is(err, ErrScheme):
		return 400, "unsupported URL scheme: only http, https, ftp and gopher can be forwarded"
	case errors.Is(err, ErrSchemePort):
		return 403, "this port is not allowed for this URL scheme (ftp.allowed_ports, gopher.allowed_ports)"
	case errors.Is(err, ErrSchemeMethod):
		return 501, "this method is not supported for this URL scheme"
	case errors.Is(err, ErrFTPUpload):
		return 403, "FTP uploads are not allowed (ftp.upload)"
	case errors.Is(err, ftp.ErrBadURL):
		return 400, "invalid ftp:// URL or credentials: bad percent-encoding, or CR, LF or NUL"
	case errors.Is(err, gopher.ErrSelector):
		return 400, "gopher selector refused: it holds CR, LF, TAB or NUL, or bad percent-encoding"
	case errors.Is(err, gopher.ErrType):
		return 400, "gopher item type not fetched by this proxy (telnet, CSO, info or error lines)"
	case errors.Is(err, ftp.ErrLineTooLong):
		return 502, "the FTP server sent a reply or listing line longer than the proxy accepts"
	case errors.Is(err, ftp.ErrListingTooLarge):
		return 502, "the FTP server sent a directory listing larger than the proxy accepts"
	case errors.Is(err, gopher.ErrLineTooLong), errors.Is(err, gopher.ErrMenuTooLarge):
		return 502, "the Gopher server sent a menu line or menu larger than the proxy accepts"
	case errors.Is(err, ErrNotProxyRequest):
		return 400, "this is a forward proxy: configure it as your HTTP proxy and send absolute URLs"
	case errors.Is(err, ErrTunnelPort):
		return 403, "CONNECT to this port is not allowed (tunnel.allowed_ports)"
	case errors.Is(err, ErrOnlyIfCached):
		return 504, "the object is not in the cache (only-if-cached)"
	case errors.Is(err, acl.ErrOwnAddress):
		return 403, "access denied: the destination is this proxy's own listen or admin address"
	case errors.Is(err, acl.ErrLocalDestination):
		return 403, "access denied: the destination is a loopback address; an operator can allow loopback destinations with acl.allow_local_destinations: true"
	case errors.Is(err, acl.ErrUnsafePort):
		return 403, "access denied: the destination port is not in acl.safe_ports"
	case errors.As(err, new(*ruleDenied)):
		var rd *ruleDenied
		errors.As(err, &rd)
		return 403, "access denied by rule " + rd.rule
	case errors.Is(err, ErrPurgeDenied):
		return 403, "PURGE is allowed from the admin networks only"
	case errors.Is(err, ErrClientDenied):
		return 403, "your address is not allowed to use this proxy"
	case errors.Is(err, ErrRuleDenied):
		return 403, "access denied by rule"
	case errors.Is(err, ErrProxyAuth):
		return 407, "proxy authentication required"
	case errors.Is(err, ErrRequestTimeout):
		return 408, "request not received in time"
	case errors.Is(err, ErrBodyLength):
		return 400, "request body ended early"
	case errors.Is(err, codec.ErrURITooLong):
		return 414, "request line too long"
	case errors.Is(err, codec.ErrHeaderTooLarge):
		return 431, "request header fields too large"
	case errors.Is(err, codec.ErrVersionNotSupported):
		return 505, "HTTP version not supported"
	case errors.Is(err, codec.ErrRangeNotSatisfiable):
		return 416, "range not satisfiable"
	}
	var re *ftp.ReplyError
	if errors.As(err, &re) {
		return ftpStatus(re.Code), "FTP server replied: " + strconv.Itoa(re.Code) + " " + re.Text
	}
	var codecErr bool
	for _, e := range codecErrors {
		if errors.Is(err, e) {
			codecErr = true
			break
		}
	}
	if codecErr {
		return 400, "bad request: " + err.Error()
	}
	if isTimeout(err) {
		if errors.Is(err, ErrConnectTimeout) {
			return 504, "origin did not accept the connection in time"
		}
		return 504, "origin did not answer in time"
	}
	if isDNS(err) {
		return 502, "cannot resolve the origin host"
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return 502, "the origin refused the connection"
	}
	if errors.Is(err, syscall.ECONNRESET) {
		return 502, "the origin closed the connection without a response"
	}
	return 502, "the origin could not be reached or sent an invalid response"
}

// ftpStatus maps an FTP reply code that ended an operation (RFC 959 §4.2)
// to an HTTP status.
func ftpStatus(code int) int {
	switch code {
	case 550, 450: // file unavailable
		return 404
	case 530, 532, 553: // not logged in, no account, name not allowed
		return 403
	case 421: // service not available
		return 503
	}
	return 502
}

// codecErrors are the parse refusals answered with 400.
var codecErrors = []error{
	codec.ErrMethod, codec.ErrRequestLine, codec.ErrTarget, codec.ErrVersion,
	codec.ErrHeaderName, codec.ErrHeaderValue, codec.ErrSpaceBeforeColon,
	codec.ErrObsFold, codec.ErrBareCR, codec.ErrBareLF, codec.ErrMissingHost, codec.ErrDuplicateHost, codec.ErrHost,
	codec.ErrContentLength, codec.ErrDuplicateLength, codec.ErrLengthAndChunked,
	codec.ErrTransferCoding, codec.ErrTransferEncoding10, codec.ErrChunk, codec.ErrChunkTooLarge,
}

// isRefusal reports whether err is the proxy's own refusal of a
// destination, which no retry or fallback may get around.
func isRefusal(err error) bool {
	return errors.Is(err, acl.ErrOwnAddress) || errors.Is(err, acl.ErrLocalDestination) ||
		errors.Is(err, acl.ErrUnsafePort) || errors.As(err, new(*ruleDenied))
}

// isTimeout reports whether err is any kind of deadline expiry.
func isTimeout(err error) bool {
	// fasthttp's TCPDialer (acl.Dialer's dial) reports its timeout as a
	// plain error value, not as a net.Error.
	if errors.Is(err, ErrConnectTimeout) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, fasthttp.ErrDialTimeout) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isDNS reports whether err is a failure to resolve a name.
func isDNS(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr)
}
