package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
)

func TestCountRequests(t *testing.T) {
	req := "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
	for _, tc := range []struct {
		in       string
		n, bytes int
	}{
		{"", 0, 0},
		{req[:10], 0, 0},
		{req, 1, len(req)},
		{req + req + req, 3, 3 * len(req)},
		{req + req[:len(req)-1], 1, len(req)},
	} {
		n, c := countRequests([]byte(tc.in))
		if n != tc.n || c != tc.bytes {
			t.Errorf("countRequests(%q): got %d, %d; want %d, %d", tc.in, n, c, tc.n, tc.bytes)
		}
	}
}

func TestResponse1K(t *testing.T) {
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(response1K()))), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || len(b) != 1024 {
		t.Fatalf("got %d with %d bytes, want 200 with 1024", resp.StatusCode, len(b))
	}
}

// TestServePipelined runs the server on a free port and sends three
// pipelined requests, split across writes.
func TestServePipelined(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &server{addr: addr, resp: response1K()}
	errc := make(chan error, 1)
	go func() {
		errc <- gnet.Run(s, "tcp://"+addr, gnet.WithMulticore(true), gnet.WithReusePort(true), gnet.WithLogger(stderrLogger{}))
	}()
	var c net.Conn
	for i := 0; i < 100; i++ {
		if c, err = net.Dial("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	req := "GET /x HTTP/1.1\r\nHost: x\r\n\r\n"
	all := req + req + req
	fmt.Fprint(c, all[:20])
	time.Sleep(20 * time.Millisecond)
	fmt.Fprint(c, all[20:])
	br := bufio.NewReader(c)
	for i := 0; i < 3; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		if len(b) != 1024 {
			t.Fatalf("response %d: %d bytes, want 1024", i, len(b))
		}
	}
	if err := s.eng.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-errc:
	case <-time.After(5 * time.Second):
		t.Fatal("gnet.Run did not return after Stop")
	}
}
