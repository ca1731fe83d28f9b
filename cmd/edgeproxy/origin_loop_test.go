package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"
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
		c, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.(*net.TCPConn).SetReadBuffer(64 << 10)
		fmt.Fprintf(c, "GET http://%s%s HTTP/1.1\r\nHost: h\r\n\r\n", origin, path)
		resp, err := http.ReadResponse(bufio.NewReaderSize(c, 64<<10), nil)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 256<<10)
		var got int64
		for got < size {
			_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
			n, err := resp.Body.Read(buf)
			got += int64(n)
			if err != nil {
				break
			}
			time.Sleep(time.Millisecond)
		}
		c.Close()
		if got != size {
			t.Fatalf("%s: received %d bytes, want %d", path, got, size)
		}
	}
	growth := p.status(t, "VmHWM") - base
	t.Logf("proxy peak RSS grew by %d KiB while relaying 2 x 256 MiB to a slow reader on the loop path", growth)
	if growth > 64<<10 {
		t.Errorf("peak RSS grew by %d KiB, want < 64 MiB", growth)
	}
}
