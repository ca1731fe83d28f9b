package intercept

import "errors"

var (
	// ErrNeedMore means the bytes so far end inside the ClientHello: read
	// more and call again with all of them.
	ErrNeedMore = errors.New("intercept: incomplete ClientHello")
	// ErrNotTLS means the first bytes are not a TLS handshake record
	// carrying a ClientHello.
	ErrNotTLS = errors.New("intercept: not a TLS ClientHello")
	// ErrMalformed means a ClientHello whose lengths do not add up.
	ErrMalformed = errors.New("intercept: malformed ClientHello")
	// ErrHelloTooLarge means a ClientHello larger than MaxHello.
	ErrHelloTooLarge = errors.New("intercept: ClientHello too large")
	// ErrBadServerName means a server_name that is not a DNS host name.
	ErrBadServerName = errors.New("intercept: server_name is not a host name")
	// ErrNoOriginalDst means the socket carries no original destination:
	// it was not redirected by the kernel's NAT.
	ErrNoOriginalDst = errors.New("intercept: no original destination")
)
