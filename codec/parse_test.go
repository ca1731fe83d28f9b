package codec

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// result is what one parse produced, flattened so that the three ways of
// feeding an input can be compared with ==.
type result struct {
	n   int
	err error
	req string
}

// describe renders every field of r, headers included.
func describe(r *Request) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %q form=%d scheme=%q host=%q port=%q path=%q minor=%d host-header=%q cl=%d chunked=%v close=%v expect=%v",
		r.Method, r.Target, r.Form, r.Scheme, r.Host, r.Port, r.Path, r.Minor, r.HostHeader, r.ContentLength, r.Chunked, r.Close, r.Expect100)
	for _, h := range r.Headers {
		fmt.Fprintf(&sb, " [%q: %q]", h.Name, h.Value)
	}
	return sb.String()
}

// parseWhole parses in with one call.
func parseWhole(in []byte, lim *Limits) result {
	var p Parser
	var r Request
	n, err := p.Parse(in, &r, lim)
	return result{n, err, describe(&r)}
}

// parseSplit parses in as a connection would see it arrive: in pieces whose
// ends are given by cuts, each call seeing everything so far.
func parseSplit(in []byte, lim *Limits, cuts []int) result {
	var p Parser
	var r Request
	var n int
	var err error
	if len(cuts) == 0 {
		cuts = []int{0}
	}
	for _, c := range cuts {
		n, err = p.Parse(in[:c], &r, lim)
		if err != ErrNeedMore {
			break
		}
	}
	return result{n, err, describe(&r)}
}

// byteCuts returns the cuts of a byte-at-a-time arrival.
func byteCuts(n int) []int {
	cuts := make([]int, n)
	for i := range cuts {
		cuts[i] = i + 1
	}
	return cuts
}

// randomCuts returns the cuts of an arrival in random pieces.
func randomCuts(n int, rng *rand.Rand) []int {
	var cuts []int
	for c := 0; c < n; {
		c = min(n, c+1+rng.Intn(max(1, n/3)))
		cuts = append(cuts, c)
	}
	return cuts
}

// parseAllWays parses in whole, byte by byte and in random splits, fails the
// test if the results differ, and returns the result.
func parseAllWays(t *testing.T, in []byte, lim *Limits) result {
	t.Helper()
	whole := parseWhole(in, lim)
	if got := parseSplit(in, lim, byteCuts(len(in))); got != whole {
		t.Fatalf("byte by byte: got %+v, want %+v (whole)", got, whole)
	}
	rng := rand.New(rand.NewSource(int64(len(in))))
	for i := 0; i < 8; i++ {
		if got := parseSplit(in, lim, randomCuts(len(in), rng)); got != whole {
			t.Fatalf("random split %d: got %+v, want %+v (whole)", i, got, whole)
		}
	}
	return whole
}

type validCase struct {
	name   string
	in     string
	n      int // head length; 0 means len(in)
	method string
	target string
	form   Form
	scheme string
	host   string
	port   string
	path   string
	minor  uint8
	hostH  string
	cl     int64
	chunk  bool
	close  bool
	expect bool
	fields int
}

var validCases = []validCase{
	{name: "absolute with port", in: "GET http://example.com:8080/a/b?x=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n",
		method: "GET", target: "http://example.com:8080/a/b?x=1", form: FormAbsolute, scheme: "http", host: "example.com", port: "8080", path: "/a/b?x=1", minor: 1, hostH: "example.com:8080", cl: -1, fields: 1},
	{name: "absolute without port", in: "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
		method: "GET", target: "http://example.com/", form: FormAbsolute, scheme: "http", host: "example.com", path: "/", minor: 1, hostH: "example.com", cl: -1, fields: 1},
	{name: "absolute query without path", in: "GET http://example.com?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
		method: "GET", target: "http://example.com?q=1", form: FormAbsolute, scheme: "http", host: "example.com", path: "?q=1", minor: 1, hostH: "example.com", cl: -1, fields: 1},
	{name: "absolute empty path", in: "HEAD http://example.com:81 HTTP/1.1\r\nHost: x\r\n\r\n",
		method: "HEAD", target: "http://example.com:81", form: FormAbsolute, scheme: "http", host: "example.com", port: "81", minor: 1, hostH: "x", cl: -1, fields: 1},
	{name: "https scheme as written", in: "GET HTTPS://Example.COM:443/x HTTP/1.1\r\nHost: example.com\r\n\r\n",
		method: "GET", target: "HTTPS://Example.COM:443/x", form: FormAbsolute, scheme: "HTTPS", host: "Example.COM", port: "443", path: "/x", minor: 1, hostH: "example.com", cl: -1, fields: 1},
	{name: "ipv6 host with port", in: "GET http://[::1]:8080/p HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
		method: "GET", target: "http://[::1]:8080/p", form: FormAbsolute, scheme: "http", host: "[::1]", port: "8080", path: "/p", minor: 1, hostH: "[::1]:8080", cl: -1, fields: 1},
	{name: "ipv6 host without port", in: "GET http://[2001:db8::1]/ HTTP/1.1\r\nHost: [2001:db8::1]\r\n\r\n",
		method: "GET", target: "http://[2001:db8::1]/", form: FormAbsolute, scheme: "http", host: "[2001:db8::1]", path: "/", minor: 1, hostH: "[2001:db8::1]", cl: -1, fields: 1},
	{name: "connect", in: "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nUser-Agent: curl/8.5.0\r\n\r\n",
		method: "CONNECT", target: "example.com:443", form: FormAuthority, host: "example.com", port: "443", minor: 1, hostH: "example.com:443", cl: -1, fields: 2},
	{name: "connect ipv6", in: "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n",
		method: "CONNECT", target: "[::1]:8443", form: FormAuthority, host: "[::1]", port: "8443", minor: 1, hostH: "[::1]:8443", cl: -1, fields: 1},
	{name: "origin form", in: "GET /index.html?a=b&c HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n",
		method: "GET", target: "/index.html?a=b&c", form: FormOrigin, path: "/index.html?a=b&c", minor: 1, hostH: "example.com", cl: -1, fields: 2},
	{name: "asterisk", in: "OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n",
		method: "OPTIONS", target: "*", form: FormAsterisk, minor: 1, hostH: "example.com", cl: -1, fields: 1},
	{name: "options absolute", in: "OPTIONS http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n",
		method: "OPTIONS", target: "http://example.com", form: FormAbsolute, scheme: "http", host: "example.com", minor: 1, hostH: "example.com", cl: -1, fields: 1},
	{name: "http/1.0 closes", in: "GET http://example.com/ HTTP/1.0\r\n\r\n",
		method: "GET", target: "http://example.com/", form: FormAbsolute, scheme: "http", host: "example.com", path: "/", cl: -1, close: true},
	{name: "http/1.0 keep-alive", in: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
		method: "GET", target: "/", form: FormOrigin, path: "/", cl: -1, fields: 1},
	{name: "http/1.0 ignores 100-continue", in: "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n",
		method: "POST", target: "/", form: FormOrigin, path: "/", cl: 0, close: true, fields: 2},
	{name: "http/1.2 is 1.1", in: "GET / HTTP/1.2\r\nHost: a\r\n\r\n",
		method: "GET", target: "/", form: FormOrigin, path: "/", minor: 1, hostH: "a", cl: -1, fields: 1},
	{name: "content-length with body", in: "POST http://a/ HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", n: 55,
		method: "POST", target: "http://a/", form: FormAbsolute, scheme: "http", host: "a", path: "/", minor: 1, hostH: "a", cl: 5, fields: 2},
	{name: "content-length identical list", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42 , 42\r\nContent-Length: 42\r\n\r\n",
		method: "POST", target: "/", form: FormOrigin, path: "/", minor: 1, hostH: "a", cl: 42, fields: 3},
	{name: "content-length zero", in: "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 000\r\n\r\n",
		method: "PUT", target: "/", form: FormOrigin, path: "/", minor: 1, hostH: "a", cl: 0, fields: 2},
	{name: "chunked", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", n: 56,
		method: "POST", target: "/", form: FormOrigin, path: "/", minor: 1, hostH: "a", cl: -1, chunk: true, fields: 2},
	{name: "chunked with empty list members", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,\r\nTransfer-Encoding: , chunked ,\r\n\r\n",
		method: "POST", target: "/", form: FormOrigin, path: "/", minor: 1, hostH: "a", cl: -1, chunk: true, fields: 3},
	{name: "leading empty lines", in: "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
		method: "GET", target: "/", form: FormOrigin, path: "/", minor: 1, hostH: "a", cl: -1, fields: 1},
	{name: "connection close and expect", in: "PUT /u HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n",
		method: "PUT", target: "/u", form: FormOrigin, path: "/u", minor: 1, hostH: "a", cl: 3, close: true, expect: true, fields: 4},
	{name: "ows trimmed and odd values", in: "GET / HTTP/1.1\r\nHost:a\r\nX-Empty:\r\nX-Pad: \t v a l \t \r\nX-Utf8: caf\xc3\xa9\r\n\r\n",
		method: "GET", target: "/", form: FormOrigin, path: "/", minor: 1, hostH: "a", cl: -1, fields: 4},
	{name: "empty host header", in: "GET http://a/ HTTP/1.1\r\nHost: \r\n\r\n",
		method: "GET", target: "http://a/", form: FormAbsolute, scheme: "http", host: "a", path: "/", minor: 1, cl: -1, fields: 1},
	{name: "extension method and odd target bytes", in: "PROPFIND /a|b{c}%20\"d\" HTTP/1.1\r\nHost: a\r\n\r\n",
		method: "PROPFIND", target: "/a|b{c}%20\"d\"", form: FormOrigin, path: "/a|b{c}%20\"d\"", minor: 1, hostH: "a", cl: -1, fields: 1},
	{name: "pipelined first of two", in: "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n", n: 28,
		method: "GET", target: "/1", form: FormOrigin, path: "/1", minor: 1, hostH: "a", cl: -1, fields: 1},
}

func TestParseValid(t *testing.T) {
	for _, tc := range validCases {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			res := parseAllWays(t, in, nil)
			if res.err != nil {
				t.Fatalf("got error %v, want none", res.err)
			}
			want := tc.n
			if want == 0 {
				want = len(in)
			}
			if res.n != want {
				t.Errorf("n: got %d, want %d", res.n, want)
			}
			var p Parser
			var r Request
			p.Parse(in, &r, nil)
			for _, f := range []struct{ name, got, want string }{
				{"method", string(r.Method), tc.method}, {"target", string(r.Target), tc.target},
				{"scheme", string(r.Scheme), tc.scheme}, {"host", string(r.Host), tc.host},
				{"port", string(r.Port), tc.port}, {"path", string(r.Path), tc.path},
				{"host header", string(r.HostHeader), tc.hostH},
			} {
				if f.got != f.want {
					t.Errorf("%s: got %q, want %q", f.name, f.got, f.want)
				}
			}
			got := fmt.Sprint(r.Form, r.Minor, r.ContentLength, r.Chunked, r.Close, r.Expect100, len(r.Headers))
			wantS := fmt.Sprint(tc.form, tc.minor, tc.cl, tc.chunk, tc.close, tc.expect, tc.fields)
			if got != wantS {
				t.Errorf("form minor cl chunked close expect fields: got %q, want %q", got, wantS)
			}
		})
	}
}

func TestParseHeaderViews(t *testing.T) {
	in := []byte("GET / HTTP/1.1\r\nHost: a\r\nX-Pad: \t v a l \t \r\nX-Empty:\r\nX-Utf8: caf\xc3\xa9\r\n\r\n")
	var p Parser
	var r Request
	if _, err := p.Parse(in, &r, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"Host", "a", "X-Pad", "v a l", "X-Empty", "", "X-Utf8", "caf\xc3\xa9"}
	for i, h := range r.Headers {
		if string(h.Name) != want[2*i] || string(h.Value) != want[2*i+1] {
			t.Errorf("header %d: got %q: %q, want %q: %q", i, h.Name, h.Value, want[2*i], want[2*i+1])
		}
	}
	if got := string(r.Header("x-pad")); got != "v a l" {
		t.Errorf("Header(x-pad): got %q, want %q", got, "v a l")
	}
}

func TestParsePipelined(t *testing.T) {
	in := []byte("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhiGET /3 HTTP/1.0\r\n\r\n")
	var p Parser
	var r Request
	var targets []string
	for len(in) > 0 {
		n, err := p.Parse(in, &r, nil)
		if err != nil {
			t.Fatalf("after %q: %v", targets, err)
		}
		targets = append(targets, string(r.Target))
		in = in[n+max(0, int(r.ContentLength)):]
	}
	if got := strings.Join(targets, " "); got != "/1 /2 /3" {
		t.Fatalf("got %q, want %q", got, "/1 /2 /3")
	}
}

// A buffer shorter than what the parser already searched cannot be the same
// request grown, so the parser starts afresh instead of resuming past its end.
func TestParseShorterBufferRestarts(t *testing.T) {
	var p Parser
	var r Request
	if _, err := p.Parse([]byte("GET /a/much/longer/path HTTP/1.1\r\nHo"), &r, nil); err != ErrNeedMore {
		t.Fatalf("got %v, want ErrNeedMore", err)
	}
	n, err := p.Parse([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), &r, nil)
	if err != nil || n != 27 {
		t.Fatalf("got %d, %v; want 27, nil", n, err)
	}
}

func TestParseIncomplete(t *testing.T) {
	for _, in := range []string{"", "\r\n", "G", "GET / HTTP/1.1", "GET / HTTP/1.1\r\nHost: a\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\r"} {
		t.Run(fmt.Sprintf("%q", in), func(t *testing.T) {
			if res := parseAllWays(t, []byte(in), nil); res.err != ErrNeedMore {
				t.Fatalf("got %v, want ErrNeedMore", res.err)
			}
		})
	}
}
