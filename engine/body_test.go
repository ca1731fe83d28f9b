package engine

import (
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand"
	"net"
	"testing"
	"time"

	"edgeproxy/codec"
)

// chunkedBody frames data as chunks of random sizes.
func chunkedBody(data []byte, rng *rand.Rand) []byte {
	var out []byte
	for len(data) > 0 {
		n := min(len(data), 1+rng.Intn(40000))
		out = codec.AppendChunkHeader(out, n)
		out = append(out, data[:n]...)
		out = append(out, "\r\n"...)
		data = data[n:]
	}
	return append(out, codec.LastChunk...)
}

// The body reader of a detached upload yields exactly the body, whatever
// the chunk sizes, the split between carried-over and socket bytes, and the
// sizes the consumer reads with.
func TestBodyReaderChunked(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	data := make([]byte, 3<<20)
	rng.Read(data)
	want := sha256.Sum256(data)
	for round := 0; round < 20; round++ {
		wire := chunkedBody(data, rng)
		split := rng.Intn(len(wire) / 10)
		a, b := net.Pipe()
		wrng := rand.New(rand.NewSource(int64(round)))
		go func() {
			rest := wire[split:]
			for len(rest) > 0 {
				n := min(len(rest), 1+wrng.Intn(70000))
				_, _ = a.Write(rest[:n])
				rest = rest[n:]
			}
		}()
		br := newBodyReader(b, upload{leftover: wire[:split], chunked: true, length: -1}, 5*time.Second)
		h := sha256.New()
		buf := make([]byte, 1+rng.Intn(100000))
		n, err := io.CopyBuffer(h, struct{ io.Reader }{br}, buf)
		if err != nil || !bytes.Equal(h.Sum(nil), want[:]) {
			t.Fatalf("round %d (split %d, buf %d): read %d bytes, err %v, digest mismatch=%v", round, split, len(buf), n, err, !bytes.Equal(h.Sum(nil), want[:]))
		}
		a.Close()
		b.Close()
	}
}
