// Command ceiling is the bench's upper bound: a bare gnet server that
// answers every HTTP/1.1 request with the same 1 KiB response.
//
// It parses just enough to count requests (each ends at "\r\n\r\n"; the
// bench sends no request bodies), consumes them, and writes one canned
// response per request in a single Write, so pipelined requests get batched
// answers. Multicore with ReusePort: one event loop per CPU the process may
// run on, each with its own listener. Nothing an HTTP proxy does on a cache
// hit can cost less than this on the same machine.
//
// The first line on stdout is the listen address.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// maxHeaderBytes bounds what one connection may leave unparsed: a request
// head longer than this is garbage for the ceiling, and gnet's inbound ring
// grows without limit otherwise.
const maxHeaderBytes = 64 << 10

var crlf2 = []byte("\r\n\r\n")

type server struct {
	gnet.BuiltinEventEngine
	addr string
	resp []byte
	eng  gnet.Engine
}

// response1K is the canned reply: headers plus a 1024-byte body.
func response1K() []byte {
	body := bytes.Repeat([]byte("x"), 1024)
	h := "HTTP/1.1 200 OK\r\nServer: ceiling\r\nContent-Type: application/octet-stream\r\nCache-Control: max-age=3600\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n"
	return append([]byte(h), body...)
}

func (s *server) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	fmt.Println(s.addr)
	os.Stdout.Sync()
	return gnet.None
}

// OnTraffic consumes every complete request head in the inbound data and
// answers them with one write.
func (s *server) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Peek(-1)
	n, consumed := countRequests(buf)
	if consumed > 0 {
		c.Discard(consumed)
	}
	if c.InboundBuffered() > maxHeaderBytes {
		return gnet.Close
	}
	switch n {
	case 0:
	case 1:
		c.Write(s.resp)
	default:
		out := make([]byte, 0, n*len(s.resp))
		for range n {
			out = append(out, s.resp...)
		}
		c.Write(out)
	}
	return gnet.None
}

// countRequests counts the complete request heads at the start of buf and
// the bytes they span; a trailing partial head is left for the next read.
func countRequests(buf []byte) (n, consumed int) {
	for {
		i := bytes.Index(buf[consumed:], crlf2)
		if i < 0 {
			return n, consumed
		}
		consumed += i + len(crlf2)
		n++
	}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "listen address")
	flag.Parse()

	addr := *listen
	if host, port, err := net.SplitHostPort(addr); err == nil && port == "0" {
		// ReusePort needs one fixed port for every loop's listener.
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			log.Fatalf("ceiling: pick port: %v", err)
		}
		addr = net.JoinHostPort(host, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
		ln.Close()
	}
	s := &server{addr: addr, resp: response1K()}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		s.eng.Stop(ctx)
		os.Exit(0)
	}()
	err := gnet.Run(s, "tcp://"+addr,
		gnet.WithMulticore(true),
		gnet.WithReusePort(true),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithTCPKeepAlive(0),
		gnet.WithLogger(stderrLogger{}), // stdout's first line must be the address
	)
	if err != nil {
		log.Fatalf("ceiling: %v", err)
	}
}

// stderrLogger keeps gnet's start-up chatter off stdout and drops its
// debug and info lines.
type stderrLogger struct{}

func (stderrLogger) Debugf(string, ...any) {}
func (stderrLogger) Infof(string, ...any)  {}
func (stderrLogger) Warnf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "ceiling: "+f+"\n", a...)
}
func (stderrLogger) Errorf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "ceiling: "+f+"\n", a...)
}
func (stderrLogger) Fatalf(f string, a ...any) { log.Fatalf("ceiling: "+f, a...) }
