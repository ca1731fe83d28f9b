// Command gen writes a synthetic access log in Squid's native format, the
// input of bench/trace/replay and of `edgeproxy prefetch-report`.
//
// The log models browsing: clients view pages, chosen with Zipf popularity
// over a fixed set of pages spread over sites, and each page view is the
// page's URL followed, within a few hundred milliseconds and by the same
// client, by its 5 to 30 embedded objects (site-wide style sheets and
// scripts, then the page's own images), always in the same order. Between
// two views a client thinks for an exponential time. A share of views are
// large one-timer downloads, each a URL asked for once. Sizes are a function
// of the URL, so a URL has one size throughout. The same flags and seed
// give the same bytes.
//
//	gen -clients 200 -requests 100000 -seed 1 -o trace.log
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
)

func main() {
	var c Config
	flag.IntVar(&c.Clients, "clients", DefaultClients, "number of clients")
	flag.IntVar(&c.Requests, "requests", DefaultRequests, "number of log lines")
	flag.Uint64Var(&c.Seed, "seed", 1, "random seed: the same seed and flags give the same log")
	flag.IntVar(&c.Pages, "pages", DefaultPages, "number of distinct pages")
	flag.IntVar(&c.Sites, "sites", DefaultSites, "number of sites the pages are spread over")
	flag.Float64Var(&c.Zipf, "zipf", DefaultZipf, "Zipf exponent of page popularity")
	flag.Float64Var(&c.OneTimers, "onetimers", DefaultOneTimers, "share of views that are one-timer downloads")
	out := flag.String("o", "-", "output file (- for standard output)")
	flag.Parse()

	events, err := Generate(c)
	if err != nil {
		log.Fatal(err)
	}
	var w io.Writer = os.Stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			log.Fatalf("gen: %v", err)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	if err := Write(bw, events); err != nil {
		log.Fatalf("gen: %v", err)
	}
	if err := bw.Flush(); err != nil {
		log.Fatalf("gen: %v", err)
	}
}

// Write writes events to w in Squid's native format.
func Write(w io.Writer, events []Event) error {
	var buf []byte
	for i := range events {
		e := &events[i]
		buf = e.appendSquid(buf[:0])
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	return nil
}
