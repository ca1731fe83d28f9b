// Command tunnelloop is a minimal CONNECT proxy that relays tunnels on gnet's
// event loops ("design 1"), built only to be measured against edgeproxy's
// tunnels (engine/tunnel.go, "design 2": the sockets leave gnet and two
// goroutines splice them).
//
// Design 1: the client connection arrives on a gnet loop; after the CONNECT
// head, the origin connection is dialled with
// c.EventLoop().Register(gnet.NewContext(ctx, state), addr), so gnet
// registers it on the same loop and its OnOpen runs there. The 200 goes out
// in that OnOpen. From then on OnTraffic of either side writes the bytes it
// got to the other side with peer.Write; whatever the kernel does not take
// is copied into the peer's outbound buffer. gnet cannot stop reading a
// socket, so the only bound on memory is a watermark on the receiving
// side's OutboundBuffered(): -overflow close closes the tunnel when it is
// exceeded, -overflow grow lets the buffer grow without bound.
//
// Measurement only: no timeouts, no ACL, IP or host targets (the dial, DNS
// included, runs in gnet's worker pool), no keep-alive after a refusal.
//
//	tunnelloop [-listen 127.0.0.1:0] [-watermark 1MiB] [-overflow close|grow]
//
// The first line on stdout is the listen address. One line per tunnel goes
// to stderr when it closes:
//
//	tunnel target=H:P reason=R to_client=N to_origin=N peak_client_buf=N peak_origin_buf=N
//
// where peak_*_buf are the largest OutboundBuffered() seen on that side.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// maxHead bounds a CONNECT head.
const maxHead = 8 << 10

var (
	established = []byte("HTTP/1.1 200 Connection established\r\n\r\n")
	badRequest  = []byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	badGateway  = []byte("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
)

// tunnel is the state shared by both sides; it is only touched on the loop
// that owns both connections.
type tunnel struct {
	client   gnet.Conn
	origin   gnet.Conn // nil until the origin's OnOpen
	target   string
	leftover []byte // client bytes after the CONNECT head, before OnOpen

	toClient, toOrigin int64
	peakClient         int // largest client.OutboundBuffered()
	peakOrigin         int // largest origin.OutboundBuffered()
	reason             string
	clientClosed       bool
	originClosed       bool
	draining           bool // origin ended; client closes once its buffer is empty
}

// originSide marks the origin connection's context.
type originSide struct{ t *tunnel }

// hostAddr lets gnet's worker dial "host:port" (resolving it there, not on
// the loop).
type hostAddr string

func (hostAddr) Network() string  { return "tcp" }
func (a hostAddr) String() string { return string(a) }

type proxy struct {
	gnet.BuiltinEventEngine
	watermark int
	grow      bool
	addr      string
	open      atomic.Int64
}

func (p *proxy) OnBoot(eng gnet.Engine) gnet.Action {
	return gnet.None
}

func (p *proxy) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	if o, ok := c.Context().(*originSide); ok {
		t := o.t
		if t.clientClosed {
			return nil, gnet.Close
		}
		t.origin = c
		// The 200 goes to the client only now that the origin is connected.
		if _, err := t.client.Write(established); err != nil {
			return nil, gnet.Close
		}
		out := t.leftover
		t.leftover = nil
		t.toOrigin += int64(len(out))
		return out, gnet.None
	}
	p.open.Add(1)
	return nil, gnet.None
}

func (p *proxy) OnTraffic(c gnet.Conn) gnet.Action {
	switch st := c.Context().(type) {
	case *originSide:
		t := st.t
		return p.relay(c, t.client, &t.toClient, &t.peakClient, t)
	case *tunnel:
		if st.origin == nil {
			// Head parsed, origin not open yet: keep what the client sends.
			buf, _ := c.Next(-1)
			st.leftover = append(st.leftover, buf...)
			return gnet.None
		}
		if st.draining {
			_, _ = c.Discard(-1)
			return gnet.None
		}
		return p.relay(c, st.origin, &st.toOrigin, &st.peakOrigin, st)
	default:
		return p.head(c)
	}
}

// head parses "CONNECT host:port HTTP/1.x" and starts the origin dial.
func (p *proxy) head(c gnet.Conn) gnet.Action {
	buf, _ := c.Peek(-1)
	end := bytes.Index(buf, []byte("\r\n\r\n"))
	if end < 0 {
		if len(buf) > maxHead {
			_, _ = c.Write(badRequest)
			return gnet.Close
		}
		return gnet.None // gnet keeps the bytes in the inbound buffer
	}
	line := buf[:bytes.IndexByte(buf, '\n')]
	f := strings.Fields(string(line))
	if len(f) != 3 || f[0] != "CONNECT" || !strings.HasPrefix(f[2], "HTTP/1.") {
		_, _ = c.Write(badRequest)
		return gnet.Close
	}
	if _, port, err := net.SplitHostPort(f[1]); err != nil {
		_, _ = c.Write(badRequest)
		return gnet.Close
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		_, _ = c.Write(badRequest)
		return gnet.Close
	}
	t := &tunnel{client: c, target: f[1]}
	t.leftover = append(t.leftover, buf[end+4:]...)
	_, _ = c.Discard(-1)
	c.SetContext(t)
	ch, err := c.EventLoop().Register(gnet.NewContext(context.Background(), &originSide{t}), hostAddr(f[1]))
	if err != nil {
		t.reason = "register"
		_, _ = c.Write(badGateway)
		return gnet.Close
	}
	// A failed dial never reaches the loop: watch the result off the loop
	// and answer 502 through Execute. This goroutine lives for the dial only.
	el := c.EventLoop()
	go func() {
		r := <-ch
		if r.Err == nil {
			return
		}
		_ = el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
			if !t.clientClosed {
				t.reason = "dial"
				_, _ = t.client.Write(badGateway)
				_ = t.client.Close()
			}
			return nil
		}))
	}()
	return gnet.None
}

// relay writes what src has to dst and enforces the watermark on dst.
func (p *proxy) relay(src, dst gnet.Conn, moved *int64, peak *int, t *tunnel) gnet.Action {
	buf, _ := src.Peek(-1)
	if len(buf) == 0 {
		return gnet.None
	}
	n, err := dst.Write(buf) // copies whatever write(2) does not take
	_, _ = src.Discard(-1)
	*moved += int64(n)
	if err != nil {
		if t.reason == "" {
			t.reason = "write"
		}
		return gnet.Close
	}
	if b := dst.OutboundBuffered(); b > *peak {
		*peak = b
		if !p.grow && b > p.watermark {
			t.reason = "overflow"
			_ = dst.Close()
			return gnet.Close
		}
	}
	return gnet.None
}

func (p *proxy) OnClose(c gnet.Conn, err error) gnet.Action {
	switch st := c.Context().(type) {
	case *originSide:
		t := st.t
		t.originClosed = true
		if t.clientClosed {
			return gnet.None
		}
		if t.reason == "" {
			t.reason = "origin-eof"
		}
		// Deliver what is still buffered for the client before closing it:
		// gnet's close makes one non-blocking attempt only.
		if t.client.OutboundBuffered() == 0 {
			_ = t.client.Close()
		} else {
			t.draining = true
			drainLater(t)
		}
	case *tunnel:
		p.open.Add(-1)
		st.clientClosed = true
		if st.reason == "" {
			st.reason = "client-eof"
		}
		if st.origin != nil && !st.originClosed {
			_ = st.origin.Close()
		}
		fmt.Fprintf(os.Stderr, "tunnel target=%s reason=%s to_client=%d to_origin=%d peak_client_buf=%d peak_origin_buf=%d\n",
			st.target, st.reason, st.toClient, st.toOrigin, st.peakClient, st.peakOrigin)
	default:
		p.open.Add(-1)
	}
	return gnet.None
}

// drainLater closes the client once gnet has flushed its outbound buffer.
// gnet has no "drained" event, so this polls every millisecond through
// Execute; no goroutine waits meanwhile.
func drainLater(t *tunnel) {
	el := t.client.EventLoop()
	time.AfterFunc(time.Millisecond, func() {
		_ = el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
			if t.clientClosed {
				return nil
			}
			if t.client.OutboundBuffered() == 0 {
				return t.client.Close()
			}
			drainLater(t)
			return nil
		}))
	})
}

// stderrLogger keeps gnet's own log off stdout, whose first line is the
// address.
type stderrLogger struct{}

func (stderrLogger) Debugf(string, ...any)     {}
func (stderrLogger) Infof(f string, a ...any)  { log.Printf("gnet: "+f, a...) }
func (stderrLogger) Warnf(f string, a ...any)  { log.Printf("gnet: "+f, a...) }
func (stderrLogger) Errorf(f string, a ...any) { log.Printf("gnet: "+f, a...) }
func (stderrLogger) Fatalf(f string, a ...any) { log.Fatalf("gnet: "+f, a...) }

// parseSize reads 1048576, 64KiB, 1MiB, 1GiB.
func parseSize(s string) (int, error) {
	mult := 1
	for _, u := range []struct {
		suf string
		m   int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(s, u.suf) {
			s, mult = strings.TrimSuffix(s, u.suf), u.m
			break
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, errors.New("bad size")
	}
	return n * mult, nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "listen address")
	wm := flag.String("watermark", "1MiB", "largest OutboundBuffered() of the receiving side")
	overflow := flag.String("overflow", "close", "close: close the tunnel past the watermark; grow: buffer without bound")
	flag.Parse()
	watermark, err := parseSize(*wm)
	if err != nil {
		log.Fatalf("tunnelloop: -watermark %q: %v", *wm, err)
	}
	if *overflow != "close" && *overflow != "grow" {
		log.Fatalf("tunnelloop: -overflow must be close or grow")
	}
	// Resolve ":0" here, then hand the fixed address to every ReusePort
	// listener, so all loops share it.
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("tunnelloop: listen %s: %v", *listen, err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()

	p := &proxy{watermark: watermark, grow: *overflow == "grow", addr: addr}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		os.Exit(0)
	}()
	go func() {
		// Announce once the listeners accept.
		for i := 0; i < 200; i++ {
			if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
				_ = c.Close()
				fmt.Println(addr)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		log.Fatalf("tunnelloop: %s never accepted", addr)
	}()
	err = gnet.Run(p, "tcp://"+addr, gnet.WithMulticore(true), gnet.WithReusePort(true),
		gnet.WithLogger(stderrLogger{}))
	if err != nil {
		log.Fatalf("tunnelloop: %v", err)
	}
}
