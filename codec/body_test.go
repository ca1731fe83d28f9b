package codec

import (
	"math/rand"
	"testing"
)

// bodyResult is what following a whole input produced.
type bodyResult struct {
	data string
	end  int // bytes consumed: where the message ended, if done
	done bool
	err  error
}

// decodeBodySplit follows in as it would arrive in pieces ending at cuts,
// then reports the connection's end when eof is set.
func decodeBodySplit(f Framing, length int64, in []byte, cuts []int, eof bool) bodyResult {
	var d BodyDecoder
	d.Start(f, length)
	var res bodyResult
	var data []byte
	consumed := 0
	for _, c := range append(cuts, len(in)) {
		for !res.done {
			n, part, done, err := d.Decode(in[consumed:c])
			data = append(data, part...)
			consumed += n
			res.done = done
			if err != nil {
				return bodyResult{string(data), consumed, false, err}
			}
			if n == 0 {
				break
			}
		}
	}
	if eof && !res.done {
		res.err = d.EOF()
		res.done = d.Done()
	}
	res.data, res.end = string(data), consumed
	return res
}

func TestBodyDecoder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		framing Framing
		length  int64
		in      string
		eof     bool
		want    bodyResult
	}{
		{"none ends at once", FramingNone, 0, "HTTP/1.1 200 OK\r\n", false, bodyResult{"", 0, true, nil}},
		{"none after HEAD with a body", FramingNone, 5000, "hello", false, bodyResult{"", 0, true, nil}},
		{"length exact", FramingLength, 5, "hello", false, bodyResult{"hello", 5, true, nil}},
		{"length with excess", FramingLength, 5, "helloHTTP/1.1 200 OK\r\n", false, bodyResult{"hello", 5, true, nil}},
		{"length zero", FramingLength, 0, "x", false, bodyResult{"", 0, true, nil}},
		{"length short", FramingLength, 10, "hello", false, bodyResult{"hello", 5, false, nil}},
		{"length truncated", FramingLength, 10, "hello", true, bodyResult{"hello", 5, false, ErrTruncated}},
		{"chunked", FramingChunked, -1, "5\r\nhello\r\n0\r\n\r\n", false, bodyResult{"hello", 15, true, nil}},
		{"chunked with excess", FramingChunked, -1, "5\r\nhello\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", false, bodyResult{"hello", 15, true, nil}},
		{"chunked truncated", FramingChunked, -1, "5\r\nhello\r\n", true, bodyResult{"hello", 10, false, ErrTruncated}},
		{"chunked bad", FramingChunked, -1, "5\r\nhelloXX", false, bodyResult{"hello", 8, false, ErrChunk}},
		{"close delimited", FramingClose, -1, "everything until the end", true, bodyResult{"everything until the end", 24, true, nil}},
		{"close delimited open", FramingClose, -1, "more to come", false, bodyResult{"more to come", 12, false, nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			whole := decodeBodySplit(tc.framing, tc.length, in, nil, tc.eof)
			if whole != tc.want {
				t.Fatalf("got %+v, want %+v", whole, tc.want)
			}
			if got := decodeBodySplit(tc.framing, tc.length, in, byteCuts(len(in)), tc.eof); got != whole {
				t.Fatalf("byte by byte: got %+v, want %+v (whole)", got, whole)
			}
			rng := rand.New(rand.NewSource(int64(len(in))))
			for i := 0; i < 8; i++ {
				if got := decodeBodySplit(tc.framing, tc.length, in, randomCuts(len(in), rng), tc.eof); got != whole {
					t.Fatalf("random split %d: got %+v, want %+v (whole)", i, got, whole)
				}
			}
		})
	}
}

// A response and its body parsed as one stream end at the same offset
// however the bytes arrive: what follows (an injected response) is found,
// never swallowed, after HEAD, 204, 304 and past Content-Length.
func TestResponseMessageEnd(t *testing.T) {
	const injected = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil"
	for _, tc := range []struct {
		name string
		msg  string
		head bool
	}{
		{"HEAD with a body", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", true},
		{"204 with a body", "HTTP/1.1 204 No Content\r\nContent-Length: 4\r\n\r\n", false},
		{"304 with chunked", "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", false},
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood", false},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ngood\r\n0\r\n\r\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.msg + injected)
			for _, cuts := range [][]int{nil, byteCuts(len(in)), randomCuts(len(in), rand.New(rand.NewSource(7)))} {
				if got := messageEnd(t, in, cuts, tc.head); got != len(tc.msg) {
					t.Fatalf("message ends at %d, want %d", got, len(tc.msg))
				}
			}
		})
	}
}

// messageEnd parses a head then follows its body as in arrives at cuts and
// returns the offset where the message ended.
func messageEnd(t *testing.T, in []byte, cuts []int, head bool) int {
	t.Helper()
	var p ResponseParser
	var r Response
	var d BodyDecoder
	pos, parsed := 0, false
	for _, c := range append(cuts, len(in)) {
		if !parsed {
			n, err := p.Parse(in[:c], &r, head, 0)
			if err == ErrNeedMore {
				continue
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			parsed, pos = true, n
			d.Reset(&r)
		}
		for !d.Done() {
			n, _, _, err := d.Decode(in[pos:c])
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			pos += n
			if n == 0 {
				break
			}
		}
		if d.Done() {
			return pos
		}
	}
	t.Fatalf("message did not end")
	return 0
}
