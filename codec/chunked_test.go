package codec

import (
	"bytes"
	"io"
	"math/rand"
	"net/http/httputil"
	"strings"
	"testing"
)

// chunkResult is what decoding a whole input produced.
type chunkResult struct {
	data string
	used int // bytes consumed in total
	done bool
	err  error
}

// decodeSplit decodes in as it would arrive in pieces ending at cuts: each
// call sees the unconsumed rest plus what has arrived since.
func decodeSplit(in []byte, cuts []int) chunkResult {
	var d ChunkedDecoder
	var res chunkResult
	var data []byte
	consumed := 0
	for _, c := range append(cuts, len(in)) {
		for !res.done {
			n, part, done, err := d.Decode(in[consumed:c])
			data = append(data, part...)
			consumed += n
			res.done = done
			if err != nil {
				res.err = err
				return chunkResult{string(data), consumed, false, err}
			}
			if n == 0 {
				break
			}
		}
	}
	res.data, res.used = string(data), consumed
	return res
}

// decodeAllWays decodes in whole, byte by byte and in random splits and fails
// the test if the results differ.
func decodeAllWays(t *testing.T, in []byte) chunkResult {
	t.Helper()
	whole := decodeSplit(in, nil)
	if got := decodeSplit(in, byteCuts(len(in))); got != whole {
		t.Fatalf("byte by byte: got %+v, want %+v (whole)", got, whole)
	}
	rng := rand.New(rand.NewSource(int64(len(in))))
	for i := 0; i < 8; i++ {
		if got := decodeSplit(in, randomCuts(len(in), rng)); got != whole {
			t.Fatalf("random split %d: got %+v, want %+v (whole)", i, got, whole)
		}
	}
	return whole
}

func TestChunkedDecode(t *testing.T) {
	for _, tc := range []struct {
		name, in, data string
		used           int // -1 means len(in)
		done           bool
		err            error
	}{
		{"one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello", -1, true, nil},
		{"several chunks", "3\r\nabc\r\n1\r\nd\r\nA\r\n0123456789\r\n0\r\n\r\n", "abcd0123456789", -1, true, nil},
		{"upper and lower hex", "a\r\n0123456789\r\nB\r\n0123456789a\r\n0\r\n\r\n", "01234567890123456789a", -1, true, nil},
		{"leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello", -1, true, nil},
		{"extensions", "5;name=value\r\nhello\r\n3 ; a=\"q;x\"\r\nabc\r\n0;last\r\n\r\n", "helloabc", -1, true, nil},
		{"trailers", "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other:\r\n\r\n", "hello", -1, true, nil},
		{"stops at the end", "1\r\na\r\n0\r\n\r\nGET / HTTP/1.1\r\n", "a", 11, true, nil},
		{"empty body", "0\r\n\r\n", "", -1, true, nil},
		{"incomplete data", "5\r\nhel", "hel", -1, false, nil},
		{"incomplete size line", "5\r\nhello\r\n1", "hello", 10, false, nil},
		{"incomplete trailer", "0\r\nX-A: 1\r\n", "", -1, false, nil},
		{"no size", "\r\nhello\r\n", "", 0, false, ErrChunk},
		{"bad hex", "5g\r\nhello\r\n", "", 0, false, ErrChunk},
		{"sign", "+5\r\nhello\r\n", "", 0, false, ErrChunk},
		{"space after size", "5 \r\nhello\r\n0\r\n\r\n", "", 0, false, ErrChunk},
		{"size overflow", "8000000000000000\r\n", "", 0, false, ErrChunk},
		{"too many digits", "00000000000000001\r\nx\r\n", "", 0, false, ErrChunk},
		{"largest size", "7fffffffffffffff\r\n", "", 18, false, nil},
		{"missing CRLF after data", "5\r\nhelloX\r\n0\r\n\r\n", "hello", 8, false, ErrChunk},
		{"LF only after data", "5\r\nhello\n0\r\n\r\n", "hello", 8, false, ErrChunk},
		{"bare LF size line", "5\nhello\r\n0\r\n\r\n", "", 0, false, ErrChunk},
		{"bare CR in size line", "5\r;x\r\nhello\r\n", "", 0, false, ErrChunk},
		{"NUL in extension", "5;\x00\r\nhello\r\n", "", 0, false, ErrChunk},
		{"bare CR in trailer", "0\r\nX-A: 1\r2\r\n\r\n", "", 3, false, ErrChunk},
		{"obs-fold in trailer", "0\r\nX-A: 1\r\n 2\r\n\r\n", "", 11, false, ErrChunk},
		{"bad trailer name", "0\r\nX A: 1\r\n\r\n", "", 3, false, ErrChunk},
		{"bare LF ends body", "0\r\n\n", "", 3, false, ErrChunk},
		{"size line too long", "5;" + strings.Repeat("x", 5000) + "\r\nhello\r\n", "", 0, false, ErrChunkTooLarge},
		{"unterminated size line", strings.Repeat("0", 5000), "", 0, false, ErrChunkTooLarge},
		{"trailer too large", "0\r\n" + strings.Repeat("X-A: "+strings.Repeat("a", 95)+"\r\n", 200) + "\r\n", "", 16323, false, ErrChunkTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeAllWays(t, []byte(tc.in))
			want := chunkResult{tc.data, tc.used, tc.done, tc.err}
			if want.used < 0 {
				want.used = len(tc.in)
			}
			if got != want {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})
	}
}

// The decoder agrees with net/http/httputil on bodies it encodes.
func TestChunkedMatchesHTTPUtil(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 200; i++ {
		body := make([]byte, rng.Intn(3000))
		rng.Read(body)
		in := encodeChunked(body, rng.Intn(700)+1, i%3 == 0)
		got := decodeAllWays(t, in)
		if !got.done || got.err != nil || got.data != string(body) || got.used != len(in) {
			t.Fatalf("body %d: got done=%v err=%v %d bytes, want %d bytes", i, got.done, got.err, len(got.data), len(body))
		}
		std, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(in)))
		if err != nil || !bytes.Equal(std, body) {
			t.Fatalf("body %d: httputil disagrees: %v", i, err)
		}
	}
}

// encodeChunked frames body in chunks of at most size bytes, with chunk
// extensions and a trailer when decorate is set.
func encodeChunked(body []byte, size int, decorate bool) []byte {
	var out []byte
	for len(body) > 0 {
		k := min(size, len(body))
		out = AppendChunkHeader(out, k)
		if decorate {
			out = append(out[:len(out)-2], ";ext=\"v\"\r\n"...)
		}
		out = append(out, body[:k]...)
		out = append(out, '\r', '\n')
		body = body[k:]
	}
	if decorate {
		return append(out, "0\r\nX-Trailer: t\r\n\r\n"...)
	}
	return append(out, LastChunk...)
}

func TestAppendChunkHeader(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{{1, "1\r\n"}, {10, "a\r\n"}, {4096, "1000\r\n"}, {1 << 20, "100000\r\n"}} {
		if got := string(AppendChunkHeader(nil, tc.n)); got != tc.want {
			t.Errorf("AppendChunkHeader(%d): got %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestChunkedAllocs(t *testing.T) {
	in := encodeChunked(bytes.Repeat([]byte("x"), 10000), 1000, true)
	var d ChunkedDecoder
	allocs := testing.AllocsPerRun(50, func() {
		d.Reset()
		for b := in; ; {
			n, _, done, err := d.Decode(b)
			if err != nil || done {
				return
			}
			b = b[n:]
		}
	})
	if allocs != 0 {
		t.Fatalf("Decode allocates %v times per body, want 0", allocs)
	}
}

func BenchmarkChunked(b *testing.B) {
	in := encodeChunked(bytes.Repeat([]byte("0123456789abcdef"), 4096), 8192, false)
	var d ChunkedDecoder
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		d.Reset()
		for rest := in; ; {
			n, _, done, err := d.Decode(rest)
			if err != nil {
				b.Fatal(err)
			}
			if done {
				break
			}
			rest = rest[n:]
		}
	}
}

// BenchmarkChunkedHTTPUtil is the baseline for BenchmarkChunked.
func BenchmarkChunkedHTTPUtil(b *testing.B) {
	in := encodeChunked(bytes.Repeat([]byte("0123456789abcdef"), 4096), 8192, false)
	rd := bytes.NewReader(in)
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(in)
		cr := httputil.NewChunkedReader(rd)
		for {
			if _, err := cr.Read(buf); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func FuzzChunked(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\n"), uint16(3))
	f.Add([]byte("3;x=y\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"), uint16(1))
	f.Add([]byte("7fffffffffffffff\r\n"), uint16(0))
	f.Add([]byte("0\r\n\r\n"), uint16(9))
	f.Fuzz(func(t *testing.T, raw []byte, size uint16) {
		// Raw bytes as a chunked body: any split gives the same answer, and
		// when both decoders accept it they find the same data.
		got := decodeSplit(raw, nil)
		if again := decodeSplit(raw, byteCuts(len(raw))); again != got {
			t.Fatalf("byte by byte: got %+v, want %+v (whole)", again, got)
		}
		if got.used > len(raw) {
			t.Fatalf("consumed %d of %d bytes", got.used, len(raw))
		}
		if got.done && got.err == nil {
			std, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(raw)))
			if err == nil && string(std) != got.data {
				t.Fatalf("httputil decodes %q, we decode %q", std, got.data)
			}
		}
		// Raw bytes as the payload of a valid encoding: both must decode it.
		in := encodeChunked(raw, int(size)%1024+1, size&1 == 1)
		got = decodeSplit(in, nil)
		if !got.done || got.err != nil || got.data != string(raw) || got.used != len(in) {
			t.Fatalf("valid encoding: got %+v", got)
		}
		std, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(in)))
		if err != nil || !bytes.Equal(std, raw) {
			t.Fatalf("httputil on valid encoding: %v", err)
		}
	})
}
