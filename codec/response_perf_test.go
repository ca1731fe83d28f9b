package codec

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"
)

func TestParseResponseAllocs(t *testing.T) {
	b := []byte(cdnResponse)
	var p ResponseParser
	var r Response
	var d BodyDecoder
	p.Parse(b, &r, false, 0)
	allocs := testing.AllocsPerRun(100, func() {
		n, err := p.Parse(b, &r, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		d.Reset(&r)
		if _, _, done, err := d.Decode(b[n:]); !done || err != nil {
			t.Fatalf("body: done=%v err=%v", done, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Parse allocates %v times per run, want 0", allocs)
	}
}

func BenchmarkParseResponse(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"nginx", nginxResponse},
		{"cdn", cdnResponse},
		{"chunked", goChunkedResponse},
	} {
		in := []byte(bc.in)
		b.Run(bc.name, func(b *testing.B) {
			var p ResponseParser
			var r Response
			var d BodyDecoder
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				n, err := p.Parse(in, &r, false, 0)
				if err != nil {
					b.Fatal(err)
				}
				d.Reset(&r)
				for rest := in[n:]; !d.Done(); {
					k, _, _, err := d.Decode(rest)
					if err != nil || k == 0 {
						b.Fatal(err)
					}
					rest = rest[k:]
				}
			}
		})
	}
}

// BenchmarkParseResponseNetHTTP is the baseline: net/http.ReadResponse with
// a reused bufio.Reader, body read to the end.
func BenchmarkParseResponseNetHTTP(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"nginx", nginxResponse},
		{"cdn", cdnResponse},
		{"chunked", goChunkedResponse},
	} {
		in := []byte(bc.in)
		b.Run(bc.name, func(b *testing.B) {
			rd := bytes.NewReader(in)
			br := bufio.NewReader(rd)
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				rd.Reset(in)
				br.Reset(rd)
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
