package codec

import (
	"strings"
	"testing"
	"unsafe"
)

// inside reports whether v is empty or lies within b.
func inside(v, b []byte) bool {
	if len(v) == 0 {
		return true
	}
	if len(b) == 0 {
		return false
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(v)))
	return p >= lo && p+uintptr(len(v)) <= lo+uintptr(len(b))
}

// checkInvariants fails t unless a successful parse of b left r consistent.
func checkInvariants(t *testing.T, b []byte, n int, r *Request) {
	t.Helper()
	if n <= 0 || n > len(b) {
		t.Fatalf("n = %d outside (0, %d]", n, len(b))
	}
	head := b[:n]
	views := [][]byte{r.Method, r.Target, r.Scheme, r.Host, r.Port, r.Path, r.HostHeader}
	for _, h := range r.Headers {
		views = append(views, h.Name, h.Value)
	}
	for i, v := range views {
		if !inside(v, head) {
			t.Fatalf("view %d %q is not inside the head", i, v)
		}
	}
	if len(r.Method) == 0 || len(r.Target) == 0 {
		t.Fatalf("empty method %q or target %q", r.Method, r.Target)
	}
	if r.ContentLength < -1 {
		t.Fatalf("ContentLength = %d", r.ContentLength)
	}
	if r.Chunked && r.ContentLength >= 0 {
		t.Fatalf("both chunked and ContentLength %d", r.ContentLength)
	}
	if r.Minor > 1 {
		t.Fatalf("Minor = %d", r.Minor)
	}
	if r.Minor == 1 && !hasHost(r) {
		t.Fatalf("HTTP/1.1 without Host accepted")
	}
	if n < 4 || string(head[n-4:]) != "\r\n\r\n" {
		t.Fatalf("head does not end in CRLF CRLF: %q", head[max(0, n-8):])
	}
}

func hasHost(r *Request) bool {
	for _, h := range r.Headers {
		if EqualFold(h.Name, "host") {
			return true
		}
	}
	return false
}

func FuzzParse(f *testing.F) {
	for _, s := range netHTTPCorpus {
		f.Add([]byte(s))
	}
	for _, tc := range validCases {
		f.Add([]byte(tc.in))
	}
	for _, tc := range rejectCases {
		if len(tc.in) < 512 {
			f.Add([]byte(tc.in))
		}
	}
	small := &Limits{MaxRequestLine: 40, MaxHeaderBytes: 160, MaxHeaders: 4}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, lim := range []*Limits{nil, small} {
			whole := parseWhole(b, lim)
			if got := parseSplit(b, lim, byteCuts(len(b))); got != whole {
				t.Fatalf("byte by byte: got %+v, want %+v (whole)", got, whole)
			}
			var p Parser
			var r Request
			n, err := p.Parse(b, &r, lim)
			if err != nil {
				if n != 0 {
					t.Fatalf("error %v with n = %d", err, n)
				}
				continue
			}
			checkInvariants(t, b, n, &r)
			if strings.Contains(string(b[:n]), "\n\n") {
				t.Fatalf("head with bare LF accepted: %q", b[:n])
			}
		}
	})
}
