package accesslog

import (
	"fmt"
	"net/netip"
	"time"
)

// Squid result codes (the %Ss field): how the request was served. The
// names and meanings are Squid's, so log analysers that know Squid read them.
const (
	CodeNone              = "NONE"                    // no result, e.g. a malformed request
	CodeHit               = "TCP_HIT"                 // fresh copy served from the cache
	CodeMemHit            = "TCP_MEM_HIT"             // fresh copy served from memory
	CodeMiss              = "TCP_MISS"                // fetched from the origin
	CodeRefreshModified   = "TCP_REFRESH_MODIFIED"    // revalidated: origin sent a new copy
	CodeRefreshUnmodified = "TCP_REFRESH_UNMODIFIED"  // revalidated: origin answered 304
	CodeRefreshFailOld    = "TCP_REFRESH_FAIL_OLD"    // revalidation failed, stale copy served
	CodeRefreshFailErr    = "TCP_REFRESH_FAIL_ERR"    // revalidation failed, error served
	CodeClientRefreshMiss = "TCP_CLIENT_REFRESH_MISS" // client's no-cache forced a fetch
	CodeIMSHit            = "TCP_IMS_HIT"             // If-Modified-Since answered 304 from cache
	CodeINMHit            = "TCP_INM_HIT"             // If-None-Match answered 304 from cache
	CodeNegativeHit       = "TCP_NEGATIVE_HIT"        // cached error response served
	CodeSwapFailMiss      = "TCP_SWAPFAIL_MISS"       // cached copy unreadable, fetched again
	CodeDenied            = "TCP_DENIED"              // refused by access rules or authentication
	CodeTunnel            = "TCP_TUNNEL"              // CONNECT tunnel
	CodeRedirect          = "TCP_REDIRECT"            // redirect sent by the proxy itself
	SuffixAborted         = "_ABORTED"                // appended when the client went away
	SuffixTimedOut        = "_TIMEDOUT"               // appended when a timeout ended the exchange
)

// Squid hierarchy codes (the %Sh field): where the response came from.
const (
	HierNone   = "HIER_NONE"   // no origin contacted (cache hit, denial)
	HierDirect = "HIER_DIRECT" // fetched directly from the origin
	HierCARP   = "CARP"        // fetched through a cluster peer or parent chosen by CARP
	// HierPrefetch marks the prefetcher's own fetches, which no client
	// asked for.
	HierPrefetch = "PREFETCH"
)

// Record is one access log entry. Empty strings and a zero Client are
// written as "-" where Squid writes "-".
type Record struct {
	// Time is when the request completed (Squid logs completion time).
	Time time.Time
	// Elapsed is how long the transaction took, logged in milliseconds.
	Elapsed time.Duration
	// Client is the client's address.
	Client netip.Addr
	// Code is a Squid result code such as CodeHit; "NONE" if empty.
	Code string
	// Status is the HTTP status sent to the client; 0 logs as 000.
	Status int
	// Bytes is the size of the reply sent to the client, head included.
	Bytes int64
	// Method is the request method.
	Method string
	// URL is the request target as received: absolute URL, or host:port
	// for CONNECT.
	URL string
	// Proto is the request's protocol version for common and combined,
	// "HTTP/1.1" if empty.
	Proto string
	// User is the authenticated user name.
	User string
	// Hierarchy is a Squid hierarchy code such as HierDirect; "HIER_NONE"
	// if empty.
	Hierarchy string
	// Peer is the address of the server the response came from.
	Peer string
	// ContentType is the reply's Content-Type.
	ContentType string
	// Referer and UserAgent are request headers, logged by combined only.
	Referer, UserAgent string
}

// Format is a log line layout, chosen by log.format.
type Format uint8

const (
	// FormatSquid is Squid's native format, the default.
	FormatSquid Format = iota
	// FormatCommon is httpd's common log format as Squid writes it: CLF
	// followed by the Squid result and hierarchy codes.
	FormatCommon
	// FormatCombined is common plus the quoted Referer and User-Agent, again
	// followed by the Squid codes.
	FormatCombined
)

// ParseFormat maps a log.format value to a Format; "" means squid.
func ParseFormat(s string) (Format, error) {
	switch s {
	case "", "squid":
		return FormatSquid, nil
	case "common":
		return FormatCommon, nil
	case "combined":
		return FormatCombined, nil
	}
	return 0, fmt.Errorf("%w %q: want squid, common or combined", ErrFormat, s)
}

// String returns the format's log.format name.
func (f Format) String() string {
	switch f {
	case FormatCommon:
		return "common"
	case FormatCombined:
		return "combined"
	}
	return "squid"
}

// Append appends r as one line, newline included, in format f.
func (f Format) Append(dst []byte, r *Record) []byte {
	switch f {
	case FormatCommon:
		return AppendCommon(dst, r)
	case FormatCombined:
		return AppendCombined(dst, r)
	}
	return AppendSquid(dst, r)
}
