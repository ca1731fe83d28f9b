// Command origin is the load-test origin server of the edgeproxy bench.
//
// It serves deterministic objects by size class under /obj/<size>/<id>
// (the body is a pure function of the path, so every proxy sees the same
// bytes), answers conditional requests from an ETag and a fixed
// Last-Modified, counts the requests it serves (GET /__stats, /__reset) and
// can misbehave on demand for fault runs (?delay=, ?truncate=, ?reset=1,
// ?chunked=1). With -source it also listens on a raw TCP port that writes a
// requested number of bytes, the far end of the CONNECT tunnel scenario.
//
// The first line on stdout is the HTTP listen address; when -source is set,
// the second line is "source <addr>". The harness reads both.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "HTTP listen address")
	source := flag.String("source", "", "raw TCP byte-source listen address for tunnel runs (empty: off)")
	cc := flag.String("cc", "max-age=3600", "default Cache-Control of /obj responses (query cc= overrides)")
	flag.Parse()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("origin: listen %s: %v", *listen, err)
	}
	srv := newServer(*cc)
	fmt.Println(ln.Addr().String())

	if *source != "" {
		sln, err := net.Listen("tcp", *source)
		if err != nil {
			log.Fatalf("origin: listen source %s: %v", *source, err)
		}
		fmt.Printf("source %s\n", sln.Addr().String())
		go serveSource(sln)
	}
	os.Stdout.Sync()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		ln.Close()
		os.Exit(0)
	}()
	if err := srv.Serve(ln); err != nil {
		log.Fatalf("origin: serve: %v", err)
	}
}
