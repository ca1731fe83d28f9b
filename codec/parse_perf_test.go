package codec

import (
	"bufio"
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// A request that trickles in one byte at a time is searched once: the bytes
// handed to the LF search add up to the length of the input, not to the
// sum of its prefixes.
func TestParseScansOnce(t *testing.T) {
	in := []byte(firefoxProxyGet + strings.Repeat("X-Filler: "+strings.Repeat("f", 90)+"\r\n", 30) + "\r\n")
	in = bytes.Replace(in, []byte("\r\n\r\nX-Filler"), []byte("\r\nX-Filler"), 1)
	var p Parser
	var r Request
	for i := 1; i < len(in); i++ {
		if _, err := p.Parse(in[:i], &r, nil); err != ErrNeedMore {
			t.Fatalf("prefix %d: got %v, want ErrNeedMore", i, err)
		}
	}
	if p.scanned != len(in)-1 {
		t.Fatalf("scanned %d bytes for %d bytes of input, want one pass", p.scanned, len(in)-1)
	}
	if n, err := p.Parse(in, &r, nil); err != nil || n != len(in) {
		t.Fatalf("got %d, %v; want %d, nil", n, err, len(in))
	}
}

func TestParseAllocs(t *testing.T) {
	b := []byte(firefoxProxyGet)
	var p Parser
	var r Request
	p.Parse(b, &r, nil)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := p.Parse(b, &r, nil); err != nil {
			t.Fatal(err)
		}
		r.ConnectionLists([]byte("keep-alive"))
	})
	if allocs != 0 {
		t.Fatalf("Parse allocates %v times per run, want 0", allocs)
	}
}

// benchHead is a realistic proxied browser request: absolute-form GET with
// the headers Firefox sends, about 400 bytes.
var benchHead = []byte(firefoxProxyGet)

func BenchmarkParse(b *testing.B) {
	var p Parser
	var r Request
	b.SetBytes(int64(len(benchHead)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(benchHead, &r, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseNetHTTP is the baseline: the standard library's parser over
// the same bytes, with its reader reused.
func BenchmarkParseNetHTTP(b *testing.B) {
	rd := bytes.NewReader(benchHead)
	br := bufio.NewReader(rd)
	b.SetBytes(int64(len(benchHead)))
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(benchHead)
		br.Reset(rd)
		if _, err := http.ReadRequest(br); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseTrickle measures a head arriving one byte per read.
func BenchmarkParseTrickle(b *testing.B) {
	var p Parser
	var r Request
	b.SetBytes(int64(len(benchHead)))
	b.ReportAllocs()
	for b.Loop() {
		for i := 1; i <= len(benchHead); i++ {
			if _, err := p.Parse(benchHead[:i], &r, nil); err != nil && err != ErrNeedMore {
				b.Fatal(err)
			}
		}
	}
}
