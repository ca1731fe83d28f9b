package codec

import (
	"bufio"
	"bytes"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
)

// Real request heads, captured from the clients named, used as differential,
// fuzz and benchmark fixtures.
const (
	curlProxyGet = "GET http://example.com/ HTTP/1.1\r\n" +
		"Host: example.com\r\n" +
		"User-Agent: curl/8.5.0\r\n" +
		"Accept: */*\r\n" +
		"Proxy-Connection: Keep-Alive\r\n\r\n"
	firefoxProxyGet = "GET http://www.example.org/static/app.js?v=3 HTTP/1.1\r\n" +
		"Host: www.example.org\r\n" +
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
		"Accept: */*\r\n" +
		"Accept-Language: en-US,en;q=0.5\r\n" +
		"Accept-Encoding: gzip, deflate\r\n" +
		"Referer: http://www.example.org/index.html\r\n" +
		"Connection: keep-alive\r\n" +
		"Cookie: session=3f2a9c81d4e6b7a0; theme=dark\r\n" +
		"If-None-Match: \"5e1a-61f2c3\"\r\n" +
		"Priority: u=2\r\n" +
		"Pragma: no-cache\r\n" +
		"Cache-Control: no-cache\r\n\r\n"
	wrkGet      = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
	curlConnect = "CONNECT example.com:443 HTTP/1.1\r\n" +
		"Host: example.com:443\r\n" +
		"User-Agent: curl/8.5.0\r\n" +
		"Proxy-Connection: Keep-Alive\r\n\r\n"
	abPost10 = "POST http://origin.test/upload HTTP/1.0\r\n" +
		"Host: origin.test\r\n" +
		"User-Agent: ApacheBench/2.3\r\n" +
		"Accept: */*\r\n" +
		"Content-Type: application/x-www-form-urlencoded\r\n" +
		"Content-Length: 11\r\n\r\nhello=world"
	chunkedPost = "POST /api/items HTTP/1.1\r\n" +
		"Host: api.example.net\r\n" +
		"Content-Type: application/json\r\n" +
		"Transfer-Encoding: chunked\r\n" +
		"Expect: 100-continue\r\n\r\n" +
		"7\r\n{\"a\":1}\r\n0\r\n\r\n"
)

// netHTTPCorpus holds requests on which net/http.ReadRequest and Parse must
// agree.
var netHTTPCorpus = []string{
	curlProxyGet, firefoxProxyGet, wrkGet, curlConnect, abPost10, chunkedPost,
	"GET /a/b?c=d HTTP/1.1\r\nHost: x.test\r\nConnection: close\r\n\r\n",
	"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: x.test\r\n\r\n",
	"GET http://[::1]:8080/v6 HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
	"DELETE /item/7 HTTP/1.1\r\nHost: x.test\r\nContent-Length: 0\r\nX-Multi: 1\r\nX-Multi: 2\r\n\r\n",
	"PUT /f HTTP/1.1\r\nHost: x.test\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
	"GET https://secure.test:8443/p?q HTTP/1.1\r\nHost: secure.test:8443\r\nX-Pad:   spaced value  \r\n\r\n",
}

func TestParseMatchesNetHTTP(t *testing.T) {
	for _, in := range netHTTPCorpus {
		name := in[:strings.IndexByte(in, '\r')]
		t.Run(name, func(t *testing.T) {
			var p Parser
			var r Request
			if _, err := p.Parse([]byte(in), &r, nil); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			std, err := http.ReadRequest(bufio.NewReader(strings.NewReader(in)))
			if err != nil {
				t.Fatalf("net/http: %v", err)
			}
			check := func(what, got, want string) {
				t.Helper()
				if got != want {
					t.Errorf("%s: got %q, want %q", what, got, want)
				}
			}
			check("method", string(r.Method), std.Method)
			check("target", string(r.Target), std.RequestURI)
			if r.Form == FormAbsolute || r.Form == FormAuthority {
				hostPort := string(r.Host)
				if len(r.Port) > 0 {
					hostPort += ":" + string(r.Port)
				}
				check("host", hostPort, std.URL.Host)
			} else {
				check("host header", string(r.HostHeader), std.Host)
			}
			cl := r.ContentLength
			if r.Chunked {
				cl = -1
			} else if cl < 0 {
				cl = 0
			}
			if cl != std.ContentLength {
				t.Errorf("content length: got %d, want %d", cl, std.ContentLength)
			}
			if r.Chunked != (len(std.TransferEncoding) == 1 && std.TransferEncoding[0] == "chunked") {
				t.Errorf("chunked: got %v, net/http has %q", r.Chunked, std.TransferEncoding)
			}
			if r.Close != std.Close {
				t.Errorf("close: got %v, want %v", r.Close, std.Close)
			}
			if got, want := r.Expect100 && r.Minor == 1, std.Header.Get("Expect") == "100-continue"; got != want {
				t.Errorf("expect 100: got %v, want %v", got, want)
			}
			ours := http.Header{}
			for _, h := range r.Headers {
				k := textproto.CanonicalMIMEHeaderKey(string(h.Name))
				if k == "Host" || k == "Transfer-Encoding" || k == "Content-Length" {
					continue // net/http moves or folds these; compared above
				}
				ours[k] = append(ours[k], string(h.Value))
			}
			delete(std.Header, "Transfer-Encoding")
			delete(std.Header, "Content-Length")
			var a, b bytes.Buffer
			ours.Write(&a)
			std.Header.Write(&b)
			check("headers", a.String(), b.String())
		})
	}
}
