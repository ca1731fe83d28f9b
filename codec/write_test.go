package codec

import (
	"net/http"
	"testing"
)

func TestStatusText(t *testing.T) {
	codes := []int{100, 101, 200, 201, 202, 203, 204, 205, 206, 300, 301, 302, 303, 304, 305, 307, 308,
		400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417,
		421, 422, 425, 426, 428, 429, 431, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511}
	// RFC 9110 renamed phrases that net/http keeps from RFC 7231 and 4918.
	renamed := map[int]string{413: "Content Too Large", 414: "URI Too Long", 416: "Range Not Satisfiable", 422: "Unprocessable Content"}
	for _, code := range codes {
		want := http.StatusText(code)
		if r, ok := renamed[code]; ok {
			want = r
		}
		if got := StatusText(code); got != want || got == "" {
			t.Errorf("StatusText(%d): got %q, want %q", code, got, want)
		}
	}
	for _, code := range []int{0, 99, 199, 306, 418, 599, 1000} {
		if got := StatusText(code); got != "" {
			t.Errorf("StatusText(%d): got %q, want \"\"", code, got)
		}
	}
}

func TestAppendStatusLine(t *testing.T) {
	for _, tc := range []struct {
		code int
		want string
	}{
		{200, "HTTP/1.1 200 OK\r\n"},
		{206, "HTTP/1.1 206 Partial Content\r\n"},
		{304, "HTTP/1.1 304 Not Modified\r\n"},
		{431, "HTTP/1.1 431 Request Header Fields Too Large\r\n"},
		{508, "HTTP/1.1 508 Loop Detected\r\n"},
		{599, "HTTP/1.1 599 \r\n"},
		{999, "HTTP/1.1 999 \r\n"},
		{42, "HTTP/1.1 500 Internal Server Error\r\n"},
		{1000, "HTTP/1.1 500 Internal Server Error\r\n"},
	} {
		if got := string(AppendStatusLine([]byte("x"), tc.code)); got != "x"+tc.want {
			t.Errorf("AppendStatusLine(%d): got %q, want %q", tc.code, got, "x"+tc.want)
		}
	}
	dst := make([]byte, 0, 128)
	if n := testing.AllocsPerRun(100, func() { dst = AppendStatusLine(dst[:0], 404) }); n != 0 {
		t.Errorf("AppendStatusLine allocates %v times, want 0", n)
	}
}

func TestAppendHeader(t *testing.T) {
	var b []byte
	b = AppendHeader(b, "Via", []byte("1.1 edgeproxy"))
	b = AppendHeaderString(b, "X-Injected", "a\r\nSet-Cookie: x")
	b = AppendField(b, []byte("Age"), []byte("12"))
	b = AppendHeaderInt(b, "Content-Length", -1)
	want := "Via: 1.1 edgeproxy\r\nX-Injected: a  Set-Cookie: x\r\nAge: 12\r\nContent-Length: -1\r\n"
	if string(b) != want {
		t.Fatalf("got %q, want %q", b, want)
	}
}

func TestIsHopByHop(t *testing.T) {
	for _, name := range []string{"Connection", "proxy-connection", "Keep-Alive", "TE", "Trailer",
		"Transfer-Encoding", "UPGRADE", "Proxy-Authorization", "Proxy-Authenticate"} {
		if !IsHopByHop([]byte(name)) {
			t.Errorf("IsHopByHop(%q): got false, want true", name)
		}
	}
	for _, name := range []string{"Host", "Trailers", "Content-Length", "Authorization", "Te-", "Proxy-Status", ""} {
		if IsHopByHop([]byte(name)) {
			t.Errorf("IsHopByHop(%q): got true, want false", name)
		}
	}
}

func TestConnectionLists(t *testing.T) {
	in := []byte("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Secret\r\nConnection: Upgrade\r\nX-Secret: 1\r\n\r\n")
	var p Parser
	var r Request
	if _, err := p.Parse(in, &r, nil); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"x-secret": true, "UPGRADE": true, "Keep-Alive": true, "Host": false, "X-Secre": false} {
		if got := r.ConnectionLists([]byte(name)); got != want {
			t.Errorf("ConnectionLists(%q): got %v, want %v", name, got, want)
		}
	}
	if !r.IsHopByHop([]byte("X-Secret")) || !r.IsHopByHop([]byte("TE")) || r.IsHopByHop([]byte("Host")) {
		t.Errorf("IsHopByHop disagrees with the table and the Connection list")
	}
	if n := testing.AllocsPerRun(100, func() { r.IsHopByHop([]byte("x-secret")) }); n != 0 {
		t.Errorf("IsHopByHop allocates %v times, want 0", n)
	}
}
