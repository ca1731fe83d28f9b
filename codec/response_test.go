package codec

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// respResult is what one response parse produced, flattened so the ways of
// feeding an input compare with ==.
type respResult struct {
	n    int
	err  error
	resp string
}

func describeResponse(r *Response) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "1.%d %d %q framing=%d cl=%d close=%v ka=%d", r.Minor, r.Status, r.Reason, r.Framing, r.ContentLength, r.Close, r.KeepAliveTimeout)
	for _, h := range r.Headers {
		fmt.Fprintf(&sb, " [%q: %q]", h.Name, h.Value)
	}
	return sb.String()
}

// parseResponseSplit parses in as it would arrive in pieces ending at cuts,
// each call seeing everything so far.
func parseResponseSplit(in []byte, head bool, max int, cuts []int) respResult {
	var p ResponseParser
	var r Response
	var n int
	var err error
	if len(cuts) == 0 {
		cuts = []int{len(in)}
	}
	for _, c := range cuts {
		n, err = p.Parse(in[:c], &r, head, max)
		if err != ErrNeedMore {
			break
		}
	}
	return respResult{n, err, describeResponse(&r)}
}

// parseResponseAllWays parses in whole, byte by byte and in random splits,
// fails t if they differ, and returns the result.
func parseResponseAllWays(t *testing.T, in []byte, head bool, max int) respResult {
	t.Helper()
	whole := parseResponseSplit(in, head, max, nil)
	if got := parseResponseSplit(in, head, max, byteCuts(len(in))); got != whole {
		t.Fatalf("byte by byte: got %+v, want %+v (whole)", got, whole)
	}
	rng := rand.New(rand.NewSource(int64(len(in))))
	for i := 0; i < 8; i++ {
		if got := parseResponseSplit(in, head, max, randomCuts(len(in), rng)); got != whole {
			t.Fatalf("random split %d: got %+v, want %+v (whole)", i, got, whole)
		}
	}
	return whole
}

func TestParseResponse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		head    bool
		n       int // head length; 0 means len(in)
		status  int
		minor   uint8
		reason  string
		framing Framing
		cl      int64
		close   bool
		ka      int
		fields  int
	}{
		{name: "length", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello", n: 64,
			status: 200, minor: 1, reason: "OK", framing: FramingLength, cl: 5, fields: 2},
		{name: "zero length", in: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
			status: 200, minor: 1, reason: "OK", framing: FramingLength, cl: 0, fields: 1},
		{name: "chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", n: 47,
			status: 200, minor: 1, reason: "OK", framing: FramingChunked, cl: -1, fields: 1},
		{name: "chunked any case", in: "HTTP/1.1 200 OK\r\ntransfer-encoding:  Chunked \r\n\r\n",
			status: 200, minor: 1, reason: "OK", framing: FramingChunked, cl: -1, fields: 1},
		{name: "close delimited", in: "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>", n: 44,
			status: 200, minor: 1, reason: "OK", framing: FramingClose, cl: -1, close: true, fields: 1},
		{name: "head ignores length", in: "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", head: true,
			status: 200, minor: 1, reason: "OK", framing: FramingNone, cl: 5000, fields: 1},
		{name: "head ignores chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", head: true,
			status: 200, minor: 1, reason: "OK", framing: FramingNone, cl: -1, fields: 1},
		{name: "head without length is not close delimited", in: "HTTP/1.1 200 OK\r\n\r\n", head: true,
			status: 200, minor: 1, reason: "OK", framing: FramingNone, cl: -1},
		{name: "204 ignores length", in: "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n0123456789", n: 47,
			status: 204, minor: 1, reason: "No Content", framing: FramingNone, cl: 10, fields: 1},
		{name: "304 ignores chunked", in: "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\nETag: \"x\"\r\n\r\n",
			status: 304, minor: 1, reason: "Not Modified", framing: FramingNone, cl: -1, fields: 2},
		{name: "304 without length", in: "HTTP/1.1 304 Not Modified\r\n\r\n",
			status: 304, minor: 1, reason: "Not Modified", framing: FramingNone, cl: -1},
		{name: "100 continue", in: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", n: 25,
			status: 100, minor: 1, reason: "Continue", framing: FramingNone, cl: -1},
		{name: "103 early hints", in: "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n",
			status: 103, minor: 1, reason: "Early Hints", framing: FramingNone, cl: -1, fields: 1},
		{name: "101 switching", in: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05",
			n: 77, status: 101, minor: 1, reason: "Switching Protocols", framing: FramingNone, cl: -1, fields: 2},
		{name: "empty reason", in: "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n",
			status: 404, minor: 1, framing: FramingLength, cl: 0, fields: 1},
		{name: "no reason no space", in: "HTTP/1.1 500\r\nContent-Length: 0\r\n\r\n",
			status: 500, minor: 1, framing: FramingLength, cl: 0, fields: 1},
		{name: "reason with spaces and obs-text", in: "HTTP/1.1 200 Tout va bien \xe9\r\nContent-Length: 0\r\n\r\n",
			status: 200, minor: 1, reason: "Tout va bien \xe9", framing: FramingLength, cl: 0, fields: 1},
		{name: "unknown code", in: "HTTP/1.1 299 Whatever\r\nContent-Length: 0\r\n\r\n",
			status: 299, minor: 1, reason: "Whatever", framing: FramingLength, cl: 0, fields: 1},
		{name: "connection close", in: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", n: 57,
			status: 200, minor: 1, reason: "OK", framing: FramingLength, cl: 1, close: true, fields: 2},
		{name: "connection list", in: "HTTP/1.1 200 OK\r\nConnection: x-foo, Close\r\nContent-Length: 0\r\n\r\n",
			status: 200, minor: 1, reason: "OK", framing: FramingLength, cl: 0, close: true, fields: 2},
		{name: "http/1.0 closes", in: "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
			status: 200, minor: 0, reason: "OK", framing: FramingLength, cl: 0, close: true, fields: 1},
		{name: "http/1.0 keep-alive", in: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 0\r\n\r\n",
			status: 200, minor: 0, reason: "OK", framing: FramingLength, cl: 0, ka: 5, fields: 3},
		{name: "keep-alive timeout", in: "HTTP/1.1 200 OK\r\nKeep-Alive: max=99, timeout = 1\r\nContent-Length: 0\r\n\r\n",
			status: 200, minor: 1, reason: "OK", framing: FramingLength, cl: 0, ka: 1, fields: 2},
		{name: "keep-alive bad timeout", in: "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=x\r\nContent-Length: 0\r\n\r\n",
			status: 200, minor: 1, reason: "OK", framing: FramingLength, cl: 0, fields: 2},
		{name: "http/1.2 is 1.1", in: "HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n",
			status: 200, minor: 1, reason: "OK", framing: FramingLength, cl: 0, fields: 1},
		{name: "8 KiB head", in: "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("b", 8<<10) + "\r\nContent-Length: 0\r\n\r\n",
			status: 200, minor: 1, reason: "OK", framing: FramingLength, cl: 0, fields: 2},
		{name: "60 KiB head", in: "HTTP/1.1 200 OK\r\n" + strings.Repeat("Set-Cookie: "+strings.Repeat("c", 1000)+"\r\n", 60) + "Content-Length: 0\r\n\r\n",
			status: 200, minor: 1, reason: "OK", framing: FramingLength, cl: 0, fields: 61},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := parseResponseAllWays(t, []byte(tc.in), tc.head, 0)
			if got.err != nil {
				t.Fatalf("got error %v", got.err)
			}
			n := tc.n
			if n == 0 {
				n = len(tc.in)
			}
			if got.n != n {
				t.Fatalf("n: got %d, want %d", got.n, n)
			}
			var p ResponseParser
			var r Response
			p.Parse([]byte(tc.in), &r, tc.head, 0)
			if r.Status != tc.status || r.Minor != tc.minor || string(r.Reason) != tc.reason {
				t.Errorf("status line: got 1.%d %d %q, want 1.%d %d %q", r.Minor, r.Status, r.Reason, tc.minor, tc.status, tc.reason)
			}
			if r.Framing != tc.framing || r.ContentLength != tc.cl {
				t.Errorf("framing: got %d cl=%d, want %d cl=%d", r.Framing, r.ContentLength, tc.framing, tc.cl)
			}
			if r.Close != tc.close {
				t.Errorf("close: got %v, want %v", r.Close, tc.close)
			}
			if r.KeepAliveTimeout != tc.ka {
				t.Errorf("keep-alive timeout: got %d, want %d", r.KeepAliveTimeout, tc.ka)
			}
			if len(r.Headers) != tc.fields {
				t.Errorf("fields: got %d, want %d", len(r.Headers), tc.fields)
			}
		})
	}
}

// responseRejects are heads the parser must refuse, each with its sentinel.
var responseRejects = []struct {
	name string
	in   string
	head bool
	max  int
	err  error
}{
	{"CL and TE", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", false, 0, ErrLengthAndChunked},
	{"TE and CL", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", false, 0, ErrLengthAndChunked},
	{"CL and TE on HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", true, 0, ErrLengthAndChunked},
	{"CL and TE on 304", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", false, 0, ErrLengthAndChunked},
	{"differing lengths", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", false, 0, ErrDuplicateLength},
	{"duplicate lengths", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", false, 0, ErrDuplicateLength},
	{"length list", "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", false, 0, ErrDuplicateLength},
	{"signed length", "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", false, 0, ErrContentLength},
	{"empty length", "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", false, 0, ErrContentLength},
	{"huge length", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", false, 0, ErrContentLength},
	{"gzip coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", false, 0, ErrTransferCoding},
	{"chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", false, 0, ErrTransferCoding},
	{"chunked not last", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n", false, 0, ErrTransferCoding},
	{"TE in 1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, 0, ErrTransferEncoding10},
	{"obs-fold", "HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\nContent-Length: 0\r\n\r\n", false, 0, ErrObsFold},
	{"bare LF in field", "HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n", false, 0, ErrBareLF},
	{"bare LF after status", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", false, 0, ErrBareLF},
	{"bare LF end", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n", false, 0, ErrBareLF},
	{"bare CR in value", "HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", false, 0, ErrBareCR},
	{"bare CR in reason", "HTTP/1.1 200 O\rK\r\n\r\n", false, 0, ErrBareCR},
	{"NUL in value", "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\n\r\n", false, 0, ErrHeaderValue},
	{"space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", false, 0, ErrSpaceBeforeColon},
	{"bad field name", "HTTP/1.1 200 OK\r\nX(A): 1\r\n\r\n", false, 0, ErrHeaderName},
	{"no colon", "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", false, 0, ErrHeaderName},
	{"lower-case name", "http/1.1 200 OK\r\n\r\n", false, 0, ErrStatusLine},
	{"garbage", "<html>hello</html>", false, 0, ErrStatusLine},
	{"leading CRLF", "\r\nHTTP/1.1 200 OK\r\n\r\n", false, 0, ErrStatusLine},
	{"HTTP/0.9 style", "HELLO", false, 0, ErrStatusLine},
	{"two digit code", "HTTP/1.1 20 OK\r\n\r\n", false, 0, ErrStatusLine},
	{"four digit code", "HTTP/1.1 2000 OK\r\n\r\n", false, 0, ErrStatusLine},
	{"code 600", "HTTP/1.1 600 Odd\r\n\r\n", false, 0, ErrStatusLine},
	{"code 099", "HTTP/1.1 099 Odd\r\n\r\n", false, 0, ErrStatusLine},
	{"letters in code", "HTTP/1.1 2x0 OK\r\n\r\n", false, 0, ErrStatusLine},
	{"tab after version", "HTTP/1.1\t200 OK\r\n\r\n", false, 0, ErrStatusLine},
	{"no version dot", "HTTP/11 200 OK\r\n\r\n", false, 0, ErrStatusLine},
	{"HTTP/2", "HTTP/2.0 200 OK\r\n\r\n", false, 0, ErrVersionNotSupported},
	{"too large", "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("b", 200) + "\r\n\r\n", false, 128, ErrResponseHeaderTooLarge},
	{"too large unfinished", "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("b", 200), false, 128, ErrResponseHeaderTooLarge},
	{"over 64 KiB", "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-F: "+strings.Repeat("f", 1000)+"\r\n", 66) + "\r\n", false, 0, ErrResponseHeaderTooLarge},
	{"too many fields", "HTTP/1.1 200 OK\r\n" + strings.Repeat("A:\r\n", MaxResponseFields+1) + "\r\n", false, 0, ErrResponseHeaderTooLarge},
	{"bad trailer-like field", "HTTP/1.1 200 OK\r\n: empty\r\n\r\n", false, 0, ErrHeaderName},
}

func TestParseResponseRejects(t *testing.T) {
	for _, tc := range responseRejects {
		t.Run(tc.name, func(t *testing.T) {
			got := parseResponseAllWays(t, []byte(tc.in), tc.head, tc.max)
			if got.err != tc.err {
				t.Fatalf("got %v, want %v", got.err, tc.err)
			}
			if got.n != 0 {
				t.Fatalf("n: got %d, want 0", got.n)
			}
		})
	}
}

// Garbage is refused from its first byte, not after a head's worth of bytes:
// an origin that writes something other than HTTP is not waited on.
func TestParseResponseRefusesGarbageEarly(t *testing.T) {
	var p ResponseParser
	var r Response
	for _, in := range []string{"X", "HTTPS", "\n", "HTTX"} {
		if _, err := p.Parse([]byte(in), &r, false, 0); err != ErrStatusLine {
			t.Errorf("%q: got %v, want %v", in, err, ErrStatusLine)
		}
	}
	for _, in := range []string{"", "H", "HTTP", "HTTP/", "HTTP/1.1 200"} {
		p.Reset()
		if _, err := p.Parse([]byte(in), &r, false, 0); err != ErrNeedMore {
			t.Errorf("%q: got %v, want %v", in, err, ErrNeedMore)
		}
	}
}

// A head trickling in byte by byte is searched once.
func TestParseResponseScansOnce(t *testing.T) {
	in := []byte("HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Filler: "+strings.Repeat("f", 90)+"\r\n", 30) + "Content-Length: 0\r\n\r\n")
	var p ResponseParser
	var r Response
	for i := 1; i < len(in); i++ {
		if _, err := p.Parse(in[:i], &r, false, 0); err != ErrNeedMore {
			t.Fatalf("prefix %d: got %v, want ErrNeedMore", i, err)
		}
	}
	if p.scan.scanned != len(in)-1 {
		t.Fatalf("scanned %d bytes for %d bytes of input, want one pass", p.scan.scanned, len(in)-1)
	}
	if n, err := p.Parse(in, &r, false, 0); err != nil || n != len(in) {
		t.Fatalf("got %d, %v; want %d, nil", n, err, len(in))
	}
}
