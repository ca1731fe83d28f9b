// Command replay replays an access log through a caching proxy and measures
// what the cache saved.
//
// It reads a Squid native or Common/Combined Log Format log (GET lines
// only), starts a synthetic origin on 127.0.0.1 that serves every logged URL
// (rewritten to http://ORIGIN/HOST/PATH, so the path is kept and two hosts'
// paths stay apart) with the largest size logged for it and
// "Cache-Control: max-age=3600", and sends the requests through the proxy
// as fast as it answers. A logged client's requests go in log order, one at
// a time, on the worker its address hashes to; -concurrency workers run at
// once. With -bind-clients each logged client connects from its own
// loopback address (127.1.x.y), so that a proxy which learns per client
// (the prefetcher) can tell them apart; otherwise all come from 127.0.0.1.
//
// It reports requests, the request and byte hit ratios (a response is a hit
// when X-Cache starts with HIT or Cache-Status has a "hit" parameter), the
// uplink bytes the origin served, and prefetching: the origin counts the
// requests that carry "X-Edgeproxy-Prefetch: 1", a prefetch is useful when
// a client asks for its URL after it, and the bytes of the others are
// wasted.
//
//	replay -log trace.log -proxy 127.0.0.1:3128 [-json]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"time"
)

func main() {
	var c Config
	flag.StringVar(&c.Log, "log", "", "access log to replay (Squid native or Common/Combined)")
	flag.StringVar(&c.Proxy, "proxy", "127.0.0.1:3128", "proxy address, on the loopback interface")
	flag.IntVar(&c.Concurrency, "concurrency", 32, "workers; each sends one request at a time")
	flag.DurationVar(&c.Timeout, "timeout", 30*time.Second, "timeout of one request")
	flag.DurationVar(&c.Settle, "settle", time.Second, "wait after the last response for prefetches still in flight")
	flag.BoolVar(&c.BindClients, "bind-clients", false, "connect each logged client from its own 127.1.x.y address")
	flag.BoolVar(&c.Serial, "serial", false, "send every request in log order, one at a time (deterministic)")
	flag.BoolVar(&c.Largest, "largest", false, "replay as the simulator reads the log: every 200 and 304 a 200 of the URL's largest size, other lines left out")
	flag.Float64Var(&c.Speed, "speed", 0, "replay on the log's time scale compressed by this factor (0: as fast as the proxy answers)")
	asJSON := flag.Bool("json", false, "print the result as JSON")
	out := flag.String("out", "", "also write the result as JSON to this file")
	flag.Parse()

	if c.Log == "" {
		log.Fatal("replay: -log is required")
	}
	res, err := Run(c)
	if err != nil {
		log.Fatalf("replay: %v", err)
	}
	if *out != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
			log.Fatalf("replay: %v", err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(res)
	} else {
		err = res.WriteText(os.Stdout)
	}
	if err != nil {
		log.Fatalf("replay: %v", err)
	}
	if res.Errors > 0 {
		fmt.Fprintf(os.Stderr, "replay: %d requests failed; first: %s\n", res.Errors, res.FirstError)
		os.Exit(1)
	}
}
