// Command tunnel measures one bulk transfer, through an HTTP proxy's CONNECT
// tunnel or straight to the source.
//
// It connects to -proxy and asks for "CONNECT <target>" (or dials -target
// itself when -proxy is empty), writes the byte count the origin's raw
// source expects, then reads and discards until EOF. It prints one JSON
// line: {"bytes":N,"seconds":S,"mib_per_s":R}; the clock starts when the
// tunnel is up, so the figure is throughput, not set-up time.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	proxy := flag.String("proxy", "", "proxy address (empty: connect to -target directly)")
	target := flag.String("target", "", "source address host:port")
	size := flag.Int64("bytes", 1<<30, "bytes to transfer")
	timeout := flag.Duration("timeout", 120*time.Second, "whole-transfer deadline")
	flag.Parse()
	if *target == "" {
		log.Fatal("tunnel: -target is required")
	}
	dial := *target
	if *proxy != "" {
		dial = *proxy
	}
	c, err := net.DialTimeout("tcp", dial, 5*time.Second)
	if err != nil {
		log.Fatalf("tunnel: dial %s: %v", dial, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(*timeout))
	br := bufio.NewReaderSize(c, 1<<20)
	if *proxy != "" {
		fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", *target, *target)
		req, _ := http.NewRequest(http.MethodConnect, "http://"+*target, nil)
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			log.Fatalf("tunnel: CONNECT response: %v", err)
		}
		if resp.StatusCode != http.StatusOK {
			log.Fatalf("tunnel: CONNECT %s: status %d", *target, resp.StatusCode)
		}
	}
	start := time.Now()
	if _, err := fmt.Fprintf(c, "%d\n", *size); err != nil {
		log.Fatalf("tunnel: write count: %v", err)
	}
	n, err := drain(br, make([]byte, 1<<20))
	el := time.Since(start).Seconds()
	if err != nil {
		log.Fatalf("tunnel: after %d bytes: %v", n, err)
	}
	if n != *size {
		log.Fatalf("tunnel: got %d bytes, want %d", n, *size)
	}
	json.NewEncoder(os.Stdout).Encode(map[string]float64{
		"bytes": float64(n), "seconds": el, "mib_per_s": float64(n) / el / (1 << 20),
	})
}

// drain reads r to EOF in len(buf) reads; bufio hands large reads straight
// to the socket once its own buffer is empty.
func drain(r io.Reader, buf []byte) (int64, error) {
	var n int64
	for {
		k, err := r.Read(buf)
		n += int64(k)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
