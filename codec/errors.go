package codec

import "errors"

// Parse results. Each sentinel names one way a request head can be refused;
// the engine maps them to HTTP status codes in a single function.
var (
	// ErrNeedMore means the bytes end before the request head does.
	ErrNeedMore = errors.New("codec: need more data")

	// ErrMethod means the method is empty or holds a byte that is not a tchar
	// (RFC 9110 §9.1).
	ErrMethod = errors.New("codec: invalid method")
	// ErrRequestLine means the request line is not method SP target SP version
	// (RFC 9112 §3).
	ErrRequestLine = errors.New("codec: malformed request line")
	// ErrTarget means the request-target is not one of the four forms of
	// RFC 9112 §3.2, or its authority is malformed.
	ErrTarget = errors.New("codec: invalid request target")
	// ErrVersion means the version is not HTTP/DIGIT.DIGIT (RFC 9112 §2.3).
	ErrVersion = errors.New("codec: malformed HTTP version")
	// ErrVersionNotSupported means a major version other than 1 (RFC 9110 §15.6.6).
	ErrVersionNotSupported = errors.New("codec: HTTP version not supported")
	// ErrURITooLong means the request line exceeds Limits.MaxRequestLine.
	ErrURITooLong = errors.New("codec: request line too long")
	// ErrHeaderTooLarge means the head exceeds Limits.MaxHeaderBytes or holds
	// more than Limits.MaxHeaders fields.
	ErrHeaderTooLarge = errors.New("codec: request header fields too large")
	// ErrHeaderName means a field name is empty or holds a non-tchar byte.
	ErrHeaderName = errors.New("codec: invalid header field name")
	// ErrHeaderValue means a field value holds a control byte such as NUL or a
	// bare CR (RFC 9110 §5.5, RFC 9112 §2.2).
	ErrHeaderValue = errors.New("codec: invalid header field value")
	// ErrSpaceBeforeColon means whitespace between a field name and its colon,
	// which RFC 9112 §5.1 requires a server to reject.
	ErrSpaceBeforeColon = errors.New("codec: whitespace before colon in header field")
	// ErrObsFold means a field line folded onto the next (RFC 9112 §5.2).
	ErrObsFold = errors.New("codec: obsolete line folding")
	// ErrBareCR means a CR not followed by LF in the head (RFC 9112 §2.2).
	ErrBareCR = errors.New("codec: bare CR in request head")
	// ErrMissingHost means an HTTP/1.1 request without Host (RFC 9112 §3.2).
	ErrMissingHost = errors.New("codec: missing Host header")
	// ErrDuplicateHost means more than one Host field line (RFC 9112 §3.2).
	ErrDuplicateHost = errors.New("codec: duplicate Host header")
	// ErrContentLength means a Content-Length that is not a decimal number.
	ErrContentLength = errors.New("codec: invalid Content-Length")
	// ErrDuplicateLength means Content-Length values that differ (RFC 9112 §6.3).
	ErrDuplicateLength = errors.New("codec: conflicting Content-Length values")
	// ErrLengthAndChunked means both Transfer-Encoding and Content-Length
	// (RFC 9112 §6.1, §6.3: a smuggling vector, refused).
	ErrLengthAndChunked = errors.New("codec: both Transfer-Encoding and Content-Length")
	// ErrTransferCoding means a transfer coding other than one final chunked
	// (RFC 9112 §6.3).
	ErrTransferCoding = errors.New("codec: unsupported transfer coding")
	// ErrTransferEncoding10 means Transfer-Encoding in an HTTP/1.0 request
	// (RFC 9112 §6.1).
	ErrTransferEncoding10 = errors.New("codec: Transfer-Encoding in HTTP/1.0 request")

	// ErrChunk means malformed chunked framing (RFC 9112 §7.1).
	ErrChunk = errors.New("codec: malformed chunked encoding")
	// ErrChunkTooLarge means a chunk-size line, chunk extension or trailer
	// section longer than the decoder accepts.
	ErrChunkTooLarge = errors.New("codec: chunk framing too large")
)

// Sentinels added with the parser, the chunked decoder and the Range parser.
var (
	// ErrBareLF means a line in the request head ended with LF alone. RFC 9112
	// §2.2 lets a recipient accept it; this parser does not, so that every
	// line has exactly one spelling and the head is framed one way only.
	ErrBareLF = errors.New("codec: bare LF in request head")
	// ErrHost means a Host field value that is not uri-host [":" port], which
	// RFC 9112 §3.2 requires a server to answer with 400.
	ErrHost = errors.New("codec: invalid Host header")

	// ErrRange means a Range field value that is malformed, names a unit other
	// than bytes, or asks for too many or overlapping ranges. RFC 9110 §14.2
	// says such a header is ignored: serve the whole representation.
	ErrRange = errors.New("codec: invalid Range header")
	// ErrRangeNotSatisfiable means a valid byte Range of which no range
	// overlaps the representation (RFC 9110 §15.5.17: answer 416).
	ErrRangeNotSatisfiable = errors.New("codec: range not satisfiable")
)

// Sentinels of the response parser and the body decoder. An origin's
// response that yields one of them is answered 502 and never stored, and the
// connection it came on is closed: its framing can no longer be trusted.
var (
	// ErrStatusLine means the status line is not HTTP-version SP 3DIGIT
	// [SP reason-phrase] (RFC 9112 §4), or the status code lies outside
	// 100–599 (RFC 9110 §15).
	ErrStatusLine = errors.New("codec: malformed status line")
	// ErrResponseHeaderTooLarge means a response head longer than the
	// limit passed to ResponseParser.Parse, or with more field lines than
	// MaxResponseFields.
	ErrResponseHeaderTooLarge = errors.New("codec: response header too large")
	// ErrTruncated means the connection ended before the body its head
	// announced: fewer bytes than Content-Length, or no last chunk.
	ErrTruncated = errors.New("codec: message body truncated")
)
