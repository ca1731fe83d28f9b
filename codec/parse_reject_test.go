package codec

import (
	"strings"
	"testing"
)

type rejectCase struct {
	name string
	in   string
	lim  *Limits
	err  error
}

// h1 wraps field lines into an HTTP/1.1 request with a Host.
func h1(fields string) string {
	return "POST / HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n"
}

var rejectCases = []rejectCase{
	// Framing, RFC 9112 §6.
	{"content-length and chunked", h1("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), nil, ErrLengthAndChunked},
	{"chunked and content-length", h1("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), nil, ErrLengthAndChunked},
	{"differing content-length lines", h1("Content-Length: 5\r\nContent-Length: 6\r\n"), nil, ErrDuplicateLength},
	{"differing content-length list", h1("Content-Length: 5, 6\r\n"), nil, ErrDuplicateLength},
	{"content-length letters", h1("Content-Length: abc\r\n"), nil, ErrContentLength},
	{"content-length negative", h1("Content-Length: -1\r\n"), nil, ErrContentLength},
	{"content-length plus", h1("Content-Length: +5\r\n"), nil, ErrContentLength},
	{"content-length hex", h1("Content-Length: 0x5\r\n"), nil, ErrContentLength},
	{"content-length overflow", h1("Content-Length: 9223372036854775808\r\n"), nil, ErrContentLength},
	{"content-length empty", h1("Content-Length: \r\n"), nil, ErrContentLength},
	{"content-length empty member", h1("Content-Length: 5,\r\n"), nil, ErrContentLength},
	{"content-length inner space", h1("Content-Length: 1 2\r\n"), nil, ErrContentLength},
	{"gzip then chunked", h1("Transfer-Encoding: gzip, chunked\r\n"), nil, ErrTransferCoding},
	{"chunked then gzip", h1("Transfer-Encoding: chunked, gzip\r\n"), nil, ErrTransferCoding},
	{"chunked twice", h1("Transfer-Encoding: chunked, chunked\r\n"), nil, ErrTransferCoding},
	{"chunked on two lines", h1("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), nil, ErrTransferCoding},
	{"gzip line then chunked line", h1("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), nil, ErrTransferCoding},
	{"identity", h1("Transfer-Encoding: identity\r\n"), nil, ErrTransferCoding},
	{"chunked with parameter", h1("Transfer-Encoding: chunked;q=1\r\n"), nil, ErrTransferCoding},
	{"empty transfer-encoding", h1("Transfer-Encoding: \r\n"), nil, ErrTransferCoding},
	{"transfer-encoding in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", nil, ErrTransferEncoding10},

	// Field lines, RFC 9112 §5 and §2.2.
	{"obs-fold", h1("X-A: 1\r\n  continued\r\n"), nil, ErrObsFold},
	{"obs-fold with tab", h1("X-A: 1\r\n\tcontinued\r\n"), nil, ErrObsFold},
	{"whitespace before first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", nil, ErrObsFold},
	{"space before colon", h1("X-A : 1\r\n"), nil, ErrSpaceBeforeColon},
	{"tab before colon", h1("Content-Length\t: 1\r\n"), nil, ErrSpaceBeforeColon},
	{"bare CR in value", h1("X-A: a\rb\r\n"), nil, ErrBareCR},
	{"bare CR in name", h1("X-\rA: a\r\n"), nil, ErrBareCR},
	{"bare CR line", h1("\r\r\n"), nil, ErrBareCR},
	{"bare CR in method", "GE\rT / HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrBareCR},
	{"bare CR in target", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrBareCR},
	{"bare CR in version", "GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", nil, ErrBareCR},
	{"bare CR before request line", "\r\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrBareCR},
	{"bare LF ends request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", nil, ErrBareLF},
	{"bare LF ends field", "GET / HTTP/1.1\r\nHost: a\n\r\n", nil, ErrBareLF},
	{"bare LF ends head", "GET / HTTP/1.1\r\nHost: a\r\n\n", nil, ErrBareLF},
	{"bare LF first", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrBareLF},
	{"NUL in value", h1("X-A: a\x00b\r\n"), nil, ErrHeaderValue},
	{"DEL in value", h1("X-A: a\x7fb\r\n"), nil, ErrHeaderValue},
	{"escape in value", h1("X-A: \x1b[31m\r\n"), nil, ErrHeaderValue},
	{"bad name byte", h1("X@A: 1\r\n"), nil, ErrHeaderName},
	{"non-ASCII name", h1("X-\xc3\xa9: 1\r\n"), nil, ErrHeaderName},
	{"empty name", h1(": 1\r\n"), nil, ErrHeaderName},
	{"no colon", h1("X-A\r\n"), nil, ErrHeaderName},

	// Request line, RFC 9112 §3.
	{"bad method byte", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrMethod},
	{"empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrMethod},
	{"tab after method", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrMethod},
	{"no spaces", "GET\r\nHost: a\r\n\r\n", nil, ErrRequestLine},
	{"no version", "GET /\r\nHost: a\r\n\r\n", nil, ErrRequestLine},
	{"double space", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrRequestLine},
	{"trailing space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", nil, ErrRequestLine},
	{"http/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", nil, ErrVersionNotSupported},
	{"http/0.9", "GET / HTTP/0.9\r\n\r\n", nil, ErrVersionNotSupported},
	{"lower-case version", "GET / http/1.1\r\nHost: a\r\n\r\n", nil, ErrVersion},
	{"two-digit minor", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", nil, ErrVersion},
	{"version without minor", "GET / HTTP/1\r\nHost: a\r\n\r\n", nil, ErrVersion},
	{"empty version", "GET / \r\nHost: a\r\n\r\n", nil, ErrVersion},

	// Targets, RFC 9112 §3.2.
	{"userinfo", "GET http://user:pass@example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n", nil, ErrTarget},
	{"userinfo without password", "GET http://evil@example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n", nil, ErrTarget},
	{"fragment in origin form", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrTarget},
	{"fragment in absolute form", "GET http://a/#b HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrTarget},
	{"control byte in target", "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrTarget},
	{"DEL in target", "GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrTarget},
	{"raw UTF-8 in target", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrTarget},
	{"empty host", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrTarget},
	{"empty host with port", "GET http://:80/x HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrTarget},
	{"port too large", "GET http://a:65536/ HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrTarget},
	{"port zero", "GET http://a:0/ HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrTarget},
	{"empty port", "GET http://a:/ HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrTarget},
	{"port not digits", "GET http://a:8x/ HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrTarget},
	{"port six digits", "GET http://a:000080/ HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrTarget},
	{"two colons", "GET http://a:80:80/ HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrTarget},
	{"unclosed ipv6", "GET http://[::1/ HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrTarget},
	{"empty ipv6", "GET http://[]/ HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrTarget},
	{"scheme starts with digit", "GET 1http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrTarget},
	{"no scheme separator", "GET http:/a/ HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrTarget},
	{"authority form without connect", "GET example.com:80 HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrTarget},
	{"asterisk without options", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrTarget},
	{"connect without port", "CONNECT example.com HTTP/1.1\r\nHost: example.com\r\n\r\n", nil, ErrTarget},
	{"connect origin form", "CONNECT / HTTP/1.1\r\nHost: example.com\r\n\r\n", nil, ErrTarget},
	{"connect with path", "CONNECT example.com:443/x HTTP/1.1\r\nHost: example.com\r\n\r\n", nil, ErrTarget},
	{"connect absolute form", "CONNECT http://example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n", nil, ErrTarget},

	// Host, RFC 9112 §3.2.
	{"missing host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", nil, ErrMissingHost},
	{"missing host absolute form", "GET http://a/ HTTP/1.1\r\n\r\n", nil, ErrMissingHost},
	{"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", nil, ErrDuplicateHost},
	{"two hosts in 1.0", "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", nil, ErrDuplicateHost},
	{"host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", nil, ErrHost},
	{"host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", nil, ErrHost},
	{"host with path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", nil, ErrHost},
	{"host with bad port", "GET / HTTP/1.1\r\nHost: a:http\r\n\r\n", nil, ErrHost},

	// Limits.
	{"request line over limit", "GET /" + strings.Repeat("a", 20) + " HTTP/1.1\r\nHost: a\r\n\r\n", &Limits{MaxRequestLine: 20}, ErrURITooLong},
	{"request line over default", "GET /" + strings.Repeat("a", 8<<10) + " HTTP/1.1\r\nHost: a\r\n\r\n", nil, ErrURITooLong},
	{"request line unterminated over limit", "GET /" + strings.Repeat("a", 30), &Limits{MaxRequestLine: 20}, ErrURITooLong},
	{"request line just over limit", "GET /aaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n", &Limits{MaxRequestLine: 20}, ErrURITooLong},
	{"head over limit", h1("X-A: " + strings.Repeat("b", 100) + "\r\n"), &Limits{MaxHeaderBytes: 100}, ErrHeaderTooLarge},
	{"head unterminated over limit", "GET / HTTP/1.1\r\nX-A: " + strings.Repeat("b", 100), &Limits{MaxHeaderBytes: 64}, ErrHeaderTooLarge},
	{"head over default", h1(strings.Repeat("X-A: "+strings.Repeat("b", 1000)+"\r\n", 70)), nil, ErrHeaderTooLarge},
	{"empty lines over limit", strings.Repeat("\r\n", 40), &Limits{MaxHeaderBytes: 64}, ErrHeaderTooLarge},
	{"too many headers", h1("A: 1\r\nB: 2\r\nC: 3\r\n"), &Limits{MaxHeaders: 3}, ErrHeaderTooLarge},
	{"too many headers default", h1(strings.Repeat("A: 1\r\n", 100)), nil, ErrHeaderTooLarge},
}

func TestParseReject(t *testing.T) {
	for _, tc := range rejectCases {
		t.Run(tc.name, func(t *testing.T) {
			res := parseAllWays(t, []byte(tc.in), tc.lim)
			if res.err != tc.err {
				t.Fatalf("got %v, want %v", res.err, tc.err)
			}
			if res.n != 0 {
				t.Fatalf("n: got %d, want 0", res.n)
			}
		})
	}
}

// The limits hold exactly: a head of MaxHeaderBytes bytes with a request line
// of MaxRequestLine bytes and MaxHeaders fields passes.
func TestParseLimitsExact(t *testing.T) {
	line := "GET /" + strings.Repeat("a", 10) + " HTTP/1.1" // 24 bytes
	in := line + "\r\nHost: a\r\nB: 2\r\n\r\n"
	lim := &Limits{MaxRequestLine: len(line), MaxHeaderBytes: len(in), MaxHeaders: 2}
	if res := parseAllWays(t, []byte(in), lim); res.err != nil || res.n != len(in) {
		t.Fatalf("got %d, %v; want %d, nil", res.n, res.err, len(in))
	}
	for name, l := range map[string]*Limits{
		"request line": {MaxRequestLine: len(line) - 1},
		"head bytes":   {MaxHeaderBytes: len(in) - 1},
		"fields":       {MaxHeaders: 1},
	} {
		if res := parseAllWays(t, []byte(in), l); res.err == nil {
			t.Errorf("%s limit one less: got success, want an error", name)
		}
	}
}

// Limits are enforced as soon as the bytes exceed them, not when the head
// ends: a client that never sends CRLF CRLF still gets its 414 or 431.
func TestParseLimitsEarly(t *testing.T) {
	var p Parser
	var r Request
	long := []byte("GET /" + strings.Repeat("a", 100))
	if _, err := p.Parse(long, &r, &Limits{MaxRequestLine: 50}); err != ErrURITooLong {
		t.Errorf("long request line: got %v, want %v", err, ErrURITooLong)
	}
	big := []byte("GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 100))
	if _, err := p.Parse(big, &r, &Limits{MaxHeaderBytes: 64}); err != ErrHeaderTooLarge {
		t.Errorf("large head: got %v, want %v", err, ErrHeaderTooLarge)
	}
	if _, err := p.Parse(big[:60], &r, &Limits{MaxHeaderBytes: 64}); err != ErrNeedMore {
		t.Errorf("under the limit: got %v, want %v", err, ErrNeedMore)
	}
}

// After an error the parser starts afresh, so a reused Parser parses the
// next connection's request correctly.
func TestParseResetsAfterError(t *testing.T) {
	var p Parser
	var r Request
	if _, err := p.Parse([]byte("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), &r, nil); err != ErrDuplicateHost {
		t.Fatalf("got %v, want %v", err, ErrDuplicateHost)
	}
	if n, err := p.Parse([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), &r, nil); err != nil || n != 27 {
		t.Fatalf("got %d, %v; want 27, nil", n, err)
	}
}
