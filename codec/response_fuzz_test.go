package codec

import (
	"strings"
	"testing"
)

func FuzzParseResponse(f *testing.F) {
	for _, s := range responseCorpus {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	for _, tc := range responseRejects {
		if len(tc.in) < 512 {
			f.Add([]byte(tc.in), tc.head)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, head bool) {
		for _, max := range []int{0, 160} {
			whole := parseResponseSplit(b, head, max, nil)
			if got := parseResponseSplit(b, head, max, byteCuts(len(b))); got != whole {
				t.Fatalf("byte by byte: got %+v, want %+v (whole)", got, whole)
			}
			var p ResponseParser
			var r Response
			n, err := p.Parse(b, &r, head, max)
			if err != nil {
				if n != 0 {
					t.Fatalf("error %v with n = %d", err, n)
				}
				continue
			}
			checkResponseInvariants(t, b, n, head, &r)
		}
	})
}

// checkResponseInvariants fails t unless a successful parse of b left r
// consistent with the framing rules.
func checkResponseInvariants(t *testing.T, b []byte, n int, head bool, r *Response) {
	t.Helper()
	if n <= 0 || n > len(b) || string(b[n-4:n]) != "\r\n\r\n" {
		t.Fatalf("n = %d does not end a head in %q", n, b)
	}
	h := b[:n]
	if strings.Contains(string(h), "\n\n") || !strings.HasPrefix(string(h), "HTTP/1.") {
		t.Fatalf("bad head accepted: %q", h)
	}
	views := [][]byte{r.Reason}
	for _, f := range r.Headers {
		views = append(views, f.Name, f.Value)
	}
	for i, v := range views {
		if !inside(v, h) {
			t.Fatalf("view %d %q is not inside the head", i, v)
		}
	}
	if r.Status < 100 || r.Status > 599 {
		t.Fatalf("status %d accepted", r.Status)
	}
	noBody := head || r.Status < 200 || r.Status == 204 || r.Status == 304
	if noBody != (r.Framing == FramingNone) {
		t.Fatalf("framing %d for status %d head=%v", r.Framing, r.Status, head)
	}
	if r.Framing == FramingClose && !r.Close {
		t.Fatalf("close-delimited body on a persistent connection")
	}
	if r.Framing == FramingChunked && r.ContentLength >= 0 {
		t.Fatalf("chunked with Content-Length %d", r.ContentLength)
	}
}

func FuzzBodyDecoder(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\nHTTP/1.1"), uint8(FramingChunked), int64(0))
	f.Add([]byte("helloworld"), uint8(FramingLength), int64(5))
	f.Add([]byte("x"), uint8(FramingClose), int64(0))
	f.Fuzz(func(t *testing.T, b []byte, framing uint8, length int64) {
		fr := Framing(framing % 4)
		if length < 0 {
			length = -length
		}
		whole := decodeBodySplit(fr, length, b, nil, false)
		if got := decodeBodySplit(fr, length, b, byteCuts(len(b)), false); got != whole {
			t.Fatalf("byte by byte: got %+v, want %+v (whole)", got, whole)
		}
		if whole.end > len(b) || len(whole.data) > whole.end {
			t.Fatalf("consumed %d of %d with %d data bytes", whole.end, len(b), len(whole.data))
		}
		if fr == FramingLength && whole.done && int64(whole.end) != length {
			t.Fatalf("length body ended at %d, want %d", whole.end, length)
		}
	})
}
