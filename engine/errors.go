package engine

import (
	"errors"
	"net"
	"os"
	"syscall"

	"github.com/panjf2000/ants/v2"
	"github.com/valyala/fasthttp"

	"edgeproxy/codec"
)

// Refusals the engine decides on itself. Each maps to one status in statusFor.
var (
	// ErrOverload means every origin worker is busy: answered 503 at once
	// rather than queued.
	ErrOverload = errors.New("engine: all origin workers busy")
	// ErrTooManyConns means limits.max_connections client connections are open.
	ErrTooManyConns = errors.New("engine: too many client connections")
	// ErrForwardLoop means the request's Via already names this proxy
	// (RFC 9110 §7.6.3): forwarding it again would loop.
	ErrForwardLoop = errors.New("engine: forwarding loop detected")
	// ErrScheme means an absolute-form target whose scheme is neither http nor https.
	ErrScheme = errors.New("engine: unsupported URL scheme")
	// ErrNotProxyRequest means an origin-form request for a resource the proxy
	// does not serve itself.
	ErrNotProxyRequest = errors.New("engine: not a proxy request")
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
	// ErrOnlyIfCached means a request with only-if-cached found nothing it
	// could use in the cache (RFC 9111 §5.2.1.7).
	ErrOnlyIfCached = errors.New("engine: not in cache (only-if-cached)")
	// ErrPurgeDenied means PURGE from a client outside the admin networks.
	ErrPurgeDenied = errors.New("engine: PURGE not allowed from this address")
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

// errTooBig stops a background fetch whose body passed its size cap; no
// client ever sees it.
var errTooBig = errors.New("engine: background fetch over its size cap")

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
	case errors.Is(err, fasthttp.ErrNoFreeConns):
		return 503, "the proxy is at its limit of connections to this origin"
	case errors.Is(err, ErrForwardLoop):
		return 508, "forwarding loop: this request has already passed through this proxy"
	case errors.Is(err, ErrScheme):
		return 400, "unsupported URL scheme: only http and https can be forwarded"
	case errors.Is(err, ErrNotProxyRequest):
		return 400, "this is a forward proxy: configure it as your HTTP proxy and send absolute URLs"
	case errors.Is(err, ErrTunnelPort):
		return 403, "CONNECT to this port is not allowed (tunnel.allowed_ports)"
	case errors.Is(err, ErrOnlyIfCached):
		return 504, "the object is not in the cache (only-if-cached)"
	case errors.Is(err, ErrPurgeDenied):
		return 403, "PURGE is allowed from the admin networks only"
	case errors.Is(err, ErrClientDenied):
		return 403, "your address is not allowed to use this proxy"
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
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return 502, "cannot resolve the origin host"
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return 502, "the origin refused the connection"
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, fasthttp.ErrConnectionClosed) {
		return 502, "the origin closed the connection without a response"
	}
	return 502, "the origin could not be reached or sent an invalid response"
}

// codecErrors are the parse refusals answered with 400.
var codecErrors = []error{
	codec.ErrMethod, codec.ErrRequestLine, codec.ErrTarget, codec.ErrVersion,
	codec.ErrHeaderName, codec.ErrHeaderValue, codec.ErrSpaceBeforeColon,
	codec.ErrObsFold, codec.ErrBareCR, codec.ErrMissingHost, codec.ErrDuplicateHost,
	codec.ErrContentLength, codec.ErrDuplicateLength, codec.ErrLengthAndChunked,
	codec.ErrTransferCoding, codec.ErrTransferEncoding10, codec.ErrChunk, codec.ErrChunkTooLarge,
}

// isTimeout reports whether err is any kind of deadline expiry.
func isTimeout(err error) bool {
	if errors.Is(err, ErrConnectTimeout) ||
		errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, fasthttp.ErrTimeout) ||
		errors.Is(err, fasthttp.ErrDialTimeout) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
