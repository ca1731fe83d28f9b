package engine

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A scripted raw origin, shared by the tests of the loop-native origin
// client (origin_loop_test.go) and of cache fills on the loop
// (fill_loop_test.go): it writes exactly the bytes a test gives it, so it
// can misbehave on purpose where a net/http server would not.

// scriptOrigin is a raw TCP origin on 127.0.0.1 whose connections run a
// script.
type scriptOrigin struct {
	addr  string
	conns atomic.Int32
	mu    sync.Mutex
	lines []string // request lines in arrival order
}

type scriptConn struct {
	o  *scriptOrigin
	nc net.Conn
	br *bufio.Reader
	n  int
}

func startScriptOrigin(t testing.TB, script func(c *scriptConn)) *scriptOrigin {
	t.Helper()
	return startWrappedScriptOrigin(t, nil, script)
}

// startWrappedScriptOrigin is startScriptOrigin with every accepted
// connection passed through wrap (nil for none), e.g. tls.Server.
func startWrappedScriptOrigin(t testing.TB, wrap func(net.Conn) net.Conn, script func(c *scriptConn)) *scriptOrigin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &scriptOrigin{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	var open []net.Conn
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			if wrap != nil {
				nc = wrap(nc)
			}
			o.mu.Lock()
			open = append(open, nc)
			o.mu.Unlock()
			n := int(o.conns.Add(1)) - 1
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
				script(&scriptConn{o: o, nc: nc, br: bufio.NewReader(nc), n: n})
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		o.mu.Lock()
		for _, nc := range open {
			_ = nc.Close()
		}
		o.mu.Unlock()
		wg.Wait()
	})
	return o
}

func (o *scriptOrigin) seen() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.lines...)
}

// read reads one request; it returns its path ("" at the end) and body.
func (c *scriptConn) read() (path, body string) {
	cl := 0
	for i := 0; ; i++ {
		s, err := c.br.ReadString('\n')
		if err != nil {
			return "", ""
		}
		s = strings.TrimRight(s, "\r\n")
		if i == 0 {
			c.o.mu.Lock()
			c.o.lines = append(c.o.lines, s)
			c.o.mu.Unlock()
			if f := strings.Fields(s); len(f) == 3 {
				path = f[1]
			}
			continue
		}
		if s == "" {
			break
		}
		if k, v, ok := strings.Cut(s, ":"); ok && strings.EqualFold(k, "content-length") {
			cl, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	b := make([]byte, cl)
	if _, err := io.ReadFull(c.br, b); err != nil {
		return "", ""
	}
	return path, string(b)
}

func (c *scriptConn) write(s string) { _, _ = io.WriteString(c.nc, s) }

func okResponse(b string) string {
	return "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(b)) + "\r\n\r\n" + b
}

// echoPaths answers each request with its path.
func echoPaths(c *scriptConn) {
	for {
		p, _ := c.read()
		if p == "" {
			return
		}
		c.write(okResponse(p))
	}
}
