package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Issue 12: cache fills run on the event loop. A large cacheable body to a
// slow reader stays on the loop only while the client keeps up, then
// leaves it (the origin socket is detached mid-body) and is relayed under
// TCP flow control: the proxy's peak RSS stays bounded, by length and
// chunked. max_object is lowered so that the fill's own buffer (which a
// chunked body feeds until it passes max_object) is not what is measured.
func TestFillSlowReaderBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 512 MiB")
	}
	const size = 256 << 20
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		if r.URL.Path == "/length" {
			w.Header().Set("Content-Length", strconv.Itoa(size))
		}
		_, _ = io.CopyN(w, infinite{}, size)
	}))
	p := startProc(t, "cache:\n  max_object: 8MiB\n")
	warm(t, p.addr, origin)
	base := p.status(t, "VmHWM")
	for _, path := range []string{"/length", "/chunked"} {
		if got := slowGet(t, p.addr, "http://"+origin+path, size); got != size {
			t.Fatalf("%s: received %d bytes, want %d", path, got, size)
		}
	}
	growth := p.status(t, "VmHWM") - base
	t.Logf("proxy peak RSS grew by %d KiB while relaying 2 x 256 MiB of cacheable misses to a slow reader", growth)
	if growth > 64<<10 {
		t.Errorf("peak RSS grew by %d KiB, want < 64 MiB", growth)
	}
}

// Issue 12, the simplest desync: a HEAD answered with a body, in the same
// write as a cacheable response for no request, on a connection that goes on
// answering every request so. Through the binary, with the cache on, the
// connection is not used again, and the next URL fetched gets its own body,
// twice: a miss, then a hit.
func TestFillHeadWithBodyPoisonsNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	evil := "HTTP/1.1 200 OK\r\nCache-Control: max-age=3600\r\nContent-Length: 4\r\n\r\nevil"
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
				br := bufio.NewReader(nc)
				poisoned := false
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					for {
						h, err := br.ReadString('\n')
						if err != nil {
							return
						}
						if h == "\r\n" {
							break
						}
					}
					f := strings.Fields(line)
					if len(f) != 3 {
						return
					}
					switch {
					case f[0] == "HEAD":
						poisoned = true
						fmt.Fprintf(nc, "HTTP/1.1 200 OK\r\nCache-Control: max-age=3600\r\nContent-Length: 4\r\n\r\nbody%s", evil)
						continue
					case poisoned:
						io.WriteString(nc, evil)
						continue
					}
					fmt.Fprintf(nc, "HTTP/1.1 200 OK\r\nCache-Control: max-age=3600\r\nContent-Length: %d\r\n\r\n%s", len(f[1]), f[1])
				}
			}()
		}
	}()
	p := startProc(t, "event_loops: 1\n")
	origin := "http://" + ln.Addr().String()
	if out, err := curl(t, "-sI", "-x", "http://"+p.addr, origin+"/head"); err != nil || !strings.Contains(out, "200") {
		t.Fatalf("HEAD: %v\n%s", err, out)
	}
	for i, want := range []string{"MISS", "HIT"} {
		out, err := curl(t, "-s", "-D", "-", "-x", "http://"+p.addr, origin+"/other")
		if err != nil {
			t.Fatalf("GET %d: %v", i+1, err)
		}
		if !strings.HasSuffix(out, "/other") || !strings.Contains(out, "X-Cache: "+want) {
			t.Fatalf("GET %d of /other: got %q, want its own body and X-Cache: %s", i+1, out, want)
		}
	}
}
