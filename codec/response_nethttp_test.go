package codec

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
)

// Real response heads, as the servers named send them, used as differential,
// fuzz and benchmark fixtures.
const (
	nginxResponse = "HTTP/1.1 200 OK\r\n" +
		"Server: nginx/1.22.1\r\n" +
		"Date: Wed, 02 Dec 2026 21:00:00 GMT\r\n" +
		"Content-Type: text/html\r\n" +
		"Content-Length: 12\r\n" +
		"Last-Modified: Tue, 01 Dec 2026 10:00:00 GMT\r\n" +
		"Connection: keep-alive\r\n" +
		"ETag: \"6570e2a0-c\"\r\n" +
		"Accept-Ranges: bytes\r\n\r\n" +
		"hello world\n"
	goChunkedResponse = "HTTP/1.1 200 OK\r\n" +
		"Content-Type: application/json\r\n" +
		"Date: Wed, 02 Dec 2026 21:00:00 GMT\r\n" +
		"Transfer-Encoding: chunked\r\n\r\n" +
		"d\r\n{\"ok\":true}\r\n\r\n0\r\n\r\n"
	nodeResponse = "HTTP/1.1 200 OK\r\n" +
		"Content-Type: text/plain\r\n" +
		"Date: Wed, 02 Dec 2026 21:00:00 GMT\r\n" +
		"Connection: keep-alive\r\n" +
		"Keep-Alive: timeout=5\r\n" +
		"Content-Length: 2\r\n\r\nok"
	apache304 = "HTTP/1.1 304 Not Modified\r\n" +
		"Date: Wed, 02 Dec 2026 21:00:00 GMT\r\n" +
		"Server: Apache/2.4.57 (Debian)\r\n" +
		"Connection: Keep-Alive\r\n" +
		"Keep-Alive: timeout=5, max=99\r\n" +
		"ETag: \"2aa6-5f1e0\"\r\n\r\n"
	cdnResponse = "HTTP/1.1 200 OK\r\n" +
		"Content-Type: image/png\r\n" +
		"Content-Length: 4\r\n" +
		"Cache-Control: public, max-age=31536000, immutable\r\n" +
		"Age: 1234\r\n" +
		"Via: 1.1 varnish\r\n" +
		"X-Cache: HIT\r\n" +
		"Set-Cookie: a=1; Path=/\r\n" +
		"Set-Cookie: b=2; Path=/; HttpOnly\r\n" +
		"Vary: Accept-Encoding\r\n\r\n\x89PNG"
	http10Response = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close"
)

// responseCorpus holds responses on which net/http.ReadResponse and
// ResponseParser with BodyDecoder must agree: status, framing, persistence,
// fields and body.
var responseCorpus = []string{
	nginxResponse, goChunkedResponse, nodeResponse, apache304, cdnResponse, http10Response,
	"HTTP/1.1 204 No Content\r\nDate: Wed, 02 Dec 2026 21:00:00 GMT\r\n\r\n",
	"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nclose delimited body",
	"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc",
	"HTTP/1.1 301 Moved Permanently\r\nLocation: http://x.test/\r\nContent-Length: 0\r\n\r\n",
}

func TestParseResponseMatchesNetHTTP(t *testing.T) {
	for _, in := range responseCorpus {
		name := in[:strings.IndexByte(in, '\r')]
		t.Run(name, func(t *testing.T) {
			var p ResponseParser
			var r Response
			n, err := p.Parse([]byte(in), &r, false, 0)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			std, err := http.ReadResponse(bufio.NewReader(strings.NewReader(in)), nil)
			if err != nil {
				t.Fatalf("net/http: %v", err)
			}
			stdBody, err := io.ReadAll(std.Body)
			if err != nil {
				t.Fatalf("net/http body: %v", err)
			}
			if r.Status != std.StatusCode {
				t.Errorf("status: got %d, want %d", r.Status, std.StatusCode)
			}
			if int(r.Minor) != std.ProtoMinor {
				t.Errorf("minor: got %d, want %d", r.Minor, std.ProtoMinor)
			}
			if r.Close != std.Close {
				t.Errorf("close: got %v, want %v", r.Close, std.Close)
			}
			if got, want := r.Framing == FramingChunked, len(std.TransferEncoding) == 1; got != want {
				t.Errorf("chunked: got %v, net/http has %q", got, std.TransferEncoding)
			}
			var d BodyDecoder
			d.Reset(&r)
			var body []byte
			rest := []byte(in[n:])
			for !d.Done() {
				k, data, _, err := d.Decode(rest)
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				body = append(body, data...)
				rest = rest[k:]
				if k == 0 {
					if err := d.EOF(); err != nil {
						t.Fatalf("EOF: %v", err)
					}
				}
			}
			if string(body) != string(stdBody) {
				t.Errorf("body: got %q, want %q", body, stdBody)
			}
			ours := http.Header{}
			for _, h := range r.Headers {
				k := textproto.CanonicalMIMEHeaderKey(string(h.Name))
				if k == "Transfer-Encoding" || k == "Connection" {
					continue // net/http moves these out of Header; compared above
				}
				ours[k] = append(ours[k], string(h.Value))
			}
			delete(std.Header, "Transfer-Encoding")
			delete(std.Header, "Connection")
			var a, b bytes.Buffer
			ours.Write(&a)
			std.Header.Write(&b)
			if a.String() != b.String() {
				t.Errorf("headers: got %q, want %q", a.String(), b.String())
			}
		})
	}
}
