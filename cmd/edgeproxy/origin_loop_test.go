package main

import (
	"io"
	"net/http"
	"strconv"
	"testing"
)

// Issue 12: with the cache off, misses run on the event loop; a large body
// to a slow reader leaves the loop at its head (the origin socket is
// detached) and is relayed under TCP flow control, so the proxy's peak RSS
// stays bounded as on the worker path: 256 MiB, by length and chunked.
func TestLoopSlowReaderBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 512 MiB")
	}
	const size = 256 << 20
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/length" {
			w.Header().Set("Content-Length", strconv.Itoa(size))
		}
		_, _ = io.CopyN(w, infinite{}, size)
	}))
	p := startProc(t, "cache:\n  enabled: false\n")
	warm(t, p.addr, origin)
	base := p.status(t, "VmHWM")
	for _, path := range []string{"/length", "/chunked"} {
		if got := slowGet(t, p.addr, "http://"+origin+path, size); got != size {
			t.Fatalf("%s: received %d bytes, want %d", path, got, size)
		}
	}
	growth := p.status(t, "VmHWM") - base
	t.Logf("proxy peak RSS grew by %d KiB while relaying 2 x 256 MiB to a slow reader on the loop path", growth)
	if growth > 64<<10 {
		t.Errorf("peak RSS grew by %d KiB, want < 64 MiB", growth)
	}
}
