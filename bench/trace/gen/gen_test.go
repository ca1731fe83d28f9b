package main

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"edgeproxy/cache/prefetch"
)

func generate(t *testing.T, c Config) []byte {
	t.Helper()
	events, err := Generate(c)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Write(&b, events); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDeterministic(t *testing.T) {
	c := Config{Clients: 30, Requests: 5000, Seed: 7}
	a, b := generate(t, c), generate(t, c)
	if !bytes.Equal(a, b) {
		t.Errorf("two runs with seed 7 differ")
	}
	c.Seed = 8
	if bytes.Equal(a, generate(t, c)) {
		t.Errorf("seeds 7 and 8 give the same log")
	}
}

type line struct {
	client, url string
	t           time.Time
	bytes       int64
}

// TestStructure reads the log back with the prefetch package's Squid reader
// and checks the model: every page view is the page and then exactly its
// embedded objects, in order and within seconds, by the same client; a
// one-timer URL appears once; sizes are a function of the URL.
func TestStructure(t *testing.T) {
	c := Config{Clients: 50, Requests: 20_000, Seed: 3, Pages: 300, Sites: 10, OneTimers: 0.05}
	log := generate(t, c)
	var lines []line
	st, err := prefetch.ReadSquid(bytes.NewReader(log), func(client, url string, tm time.Time, n int64) {
		lines = append(lines, line{client, url, tm, n})
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != c.Requests || st.Malformed != 0 {
		t.Fatalf("read back %+v, want %d records and none malformed", st, c.Requests)
	}

	m := NewModel(c)
	pageOf := map[string]*page{}
	for i := range m.Pages {
		p := &m.Pages[i]
		pageOf[p.url] = p
		if n := len(p.embedded); n < minObjects || n > maxObjects {
			t.Errorf("page %s has %d objects, want %d to %d", p.url, n, minObjects, maxObjects)
		}
	}

	byClient := map[string][]line{}
	size := map[string]int64{}
	for i, l := range lines {
		if i > 0 && l.t.Before(lines[i-1].t) {
			t.Fatalf("line %d goes back in time", i)
		}
		if s, ok := size[l.url]; ok && s != l.bytes {
			t.Fatalf("%s logged with sizes %d and %d", l.url, s, l.bytes)
		}
		size[l.url] = l.bytes
		byClient[l.client] = append(byClient[l.client], l)
	}
	if len(byClient) != c.Clients {
		t.Errorf("%d clients in the log, want %d", len(byClient), c.Clients)
	}

	views, downloads, once := 0, 0, map[string]int{}
	for client, seq := range byClient {
		for i := 0; i < len(seq); {
			p := pageOf[seq[i].url]
			if p == nil {
				if seq[i].bytes < 1<<20 {
					t.Fatalf("client %s line %q: neither a page nor a large download", client, seq[i].url)
				}
				once[seq[i].url]++
				downloads++
				i++
				continue
			}
			views++
			start := seq[i].t
			i++
			for j, o := range p.embedded {
				if i == len(seq) {
					break // the client's last view, cut by the end of the log
				}
				if seq[i].url != o.url {
					t.Fatalf("client %s, view of %s: object %d is %q, want %q", client, p.url, j, seq[i].url, o.url)
				}
				if d := seq[i].t.Sub(start); d > 3*time.Second {
					t.Errorf("client %s: %s comes %v after its page", client, o.url, d)
				}
				i++
			}
		}
	}
	for u, n := range once {
		if n != 1 {
			t.Errorf("one-timer %s requested %d times", u, n)
		}
	}
	share := float64(downloads) / float64(views+downloads)
	t.Logf("%d views, %d downloads (%.3f)", views, downloads, share)
	if share < 0.03 || share > 0.07 {
		t.Errorf("download share %.3f, want about %.2f", share, c.OneTimers)
	}
}

func TestZipfPopularity(t *testing.T) {
	c := Config{Clients: 20, Requests: 30_000, Seed: 5, Pages: 500, Sites: 5, OneTimers: 0.0001}
	events, err := Generate(c)
	if err != nil {
		t.Fatal(err)
	}
	m := NewModel(c)
	views := make([]int, c.Pages)
	for _, e := range events {
		if e.Page >= 0 && e.Obj.url == m.Pages[e.Page].url {
			views[e.Page]++
		}
	}
	top, total := 0, 0
	for _, v := range views {
		top = max(top, v)
		total += v
	}
	// Zipf 0.8 over 500 pages: the top page takes about 4% of the views.
	if f := float64(top) / float64(total); f < 0.02 || f > 0.08 {
		t.Errorf("top page has %.3f of %d views, want about 0.04", f, total)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{Clients: -1},
		{Pages: 10, Sites: 20},
		{OneTimers: 1},
		{Zipf: -1},
	} {
		if _, err := Generate(c); !errors.Is(err, errConfig) {
			t.Errorf("Generate(%+v): got %v, want errConfig", c, err)
		}
	}
}
