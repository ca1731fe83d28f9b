// Command idle holds many idle keep-alive connections open against a server
// under test, so the harness can read what each one costs in memory.
//
// It dials -n connections (at most -par at a time), sends one GET for -url
// on each (absolute-form when -proxy is set, origin-form with -direct),
// reads the whole response and keeps the connection. It then prints
// "ready <ok> <failed>" and waits. A line "check" on stdin makes it send a
// second request on every connection and print "alive <ok> <failed>" (a
// server that dropped idle connections shows here); EOF on stdin or a
// SIGTERM closes everything and exits.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type conn struct {
	c  net.Conn
	br *bufio.Reader
}

func main() {
	target := flag.String("target", "", "address to dial (the proxy, or the origin with -direct)")
	rawURL := flag.String("url", "", "absolute URL to request")
	direct := flag.Bool("direct", false, "send origin-form requests (no proxy)")
	n := flag.Int("n", 10000, "connections to hold")
	par := flag.Int("par", 128, "concurrent dials")
	timeout := flag.Duration("timeout", 10*time.Second, "per-request timeout")
	flag.Parse()
	if *target == "" || *rawURL == "" {
		log.Fatal("idle: -target and -url are required")
	}
	u, err := url.Parse(*rawURL)
	if err != nil {
		log.Fatalf("idle: -url: %v", err)
	}
	reqLine := *rawURL
	if *direct {
		reqLine = u.RequestURI()
	}
	req := []byte("GET " + reqLine + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: bench-idle\r\n\r\n")

	conns := make([]*conn, *n)
	var failed atomic.Int64
	var firstErr atomic.Value
	sem := make(chan struct{}, *par)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, err := open(*target, req, *timeout)
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		fmt.Fprintf(os.Stderr, "idle: first error: %s\n", e)
	}
	fmt.Printf("ready %d %d\n", int64(*n)-failed.Load(), failed.Load())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for {
		select {
		case <-sig:
			return
		case l, ok := <-lines:
			if !ok {
				return
			}
			if l == "check" {
				ok, bad := check(conns, req, *timeout, *par)
				fmt.Printf("alive %d %d\n", ok, bad)
			}
		}
	}
}

// open dials target, sends req and reads one full response.
func open(target string, req []byte, timeout time.Duration) (*conn, error) {
	c, err := net.DialTimeout("tcp", target, timeout)
	if err != nil {
		return nil, err
	}
	cc := &conn{c: c, br: bufio.NewReaderSize(c, 2048)}
	if err := cc.roundTrip(req, timeout); err != nil {
		c.Close()
		return nil, err
	}
	return cc, nil
}

func (c *conn) roundTrip(req []byte, timeout time.Duration) error {
	c.c.SetDeadline(time.Now().Add(timeout))
	defer c.c.SetDeadline(time.Time{})
	if _, err := c.c.Write(req); err != nil {
		return err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	if resp.Close {
		return fmt.Errorf("server closes the connection after the response (no keep-alive)")
	}
	return nil
}

// check sends one more request on every open connection.
func check(conns []*conn, req []byte, timeout time.Duration, par int) (ok, bad int64) {
	var nOK, nBad atomic.Int64
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for _, c := range conns {
		if c == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if c.roundTrip(req, timeout) == nil {
				nOK.Add(1)
			} else {
				nBad.Add(1)
			}
		}()
	}
	wg.Wait()
	return nOK.Load(), nBad.Load()
}
