package main

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
)

// Config describes a trace. Zero fields take the defaults, which are also
// the flags' defaults.
type Config struct {
	Clients, Requests int
	Seed              uint64
	Pages, Sites      int
	Zipf              float64 // exponent of page popularity, > 0
	OneTimers         float64 // share of views that are one-timer downloads
}

// startMillis is the time of the first view: 2026-01-01T00:00:00Z.
const startMillis = 1767225600_000

// Object-count bounds of a page, and the site-wide objects each site has.
const (
	minObjects    = 5
	maxObjects    = 30
	commonPerSite = 6
)

// Defaults for the zero fields of Config.
const (
	DefaultClients   = 200
	DefaultRequests  = 100_000
	DefaultPages     = 2000
	DefaultSites     = 40
	DefaultZipf      = 0.8
	DefaultOneTimers = 0.03
)

// errConfig means a Config field is out of range.
var errConfig = errors.New("gen: bad configuration")

// withDefaults fills in the zero fields of c.
func (c Config) withDefaults() Config {
	if c.Clients == 0 {
		c.Clients = DefaultClients
	}
	if c.Requests == 0 {
		c.Requests = DefaultRequests
	}
	if c.Pages == 0 {
		c.Pages = DefaultPages
	}
	if c.Sites == 0 {
		c.Sites = min(DefaultSites, c.Pages)
	}
	if c.Zipf == 0 {
		c.Zipf = DefaultZipf
	}
	return c
}

// validate reports a field out of range, after defaults.
func (c *Config) validate() error {
	if c.Clients <= 0 || c.Requests <= 0 || c.Pages <= 0 || c.Sites <= 0 || c.Sites > c.Pages ||
		c.Zipf <= 0 || c.OneTimers < 0 || c.OneTimers >= 1 {
		return fmt.Errorf("%w: %+v: want clients, requests, pages > 0, sites ≤ pages, zipf > 0, 0 ≤ onetimers < 1", errConfig, *c)
	}
	return nil
}

// object is a URL with its size and content type.
type object struct {
	url   string
	size  int64
	ctype string
}

// page is a page and its embedded objects, in the order a browser asks.
type page struct {
	object
	embedded []object
}

// Model is the set of pages a trace is drawn from.
type Model struct {
	Pages []page
}

// Event is one log line.
type Event struct {
	Millis  int64 // unix milliseconds
	Elapsed int64 // milliseconds
	Client  int
	Obj     object
	Page    int // index of the page this line belongs to; -1 for a one-timer
	seq     int // generation order, to break ties in time
}

// logUniform draws from [lo, hi] uniformly in log scale.
func logUniform(r *rand.Rand, lo, hi float64) int64 {
	return int64(math.Exp(math.Log(lo) + r.Float64()*(math.Log(hi)-math.Log(lo))))
}

// NewModel builds the pages of c from its seed.
func NewModel(c Config) *Model {
	c = c.withDefaults()
	r := rand.New(rand.NewPCG(c.Seed, 0x6d6f64656c))
	type site struct {
		host   string
		common []object
	}
	sites := make([]site, c.Sites)
	for i := range sites {
		s := &sites[i]
		s.host = fmt.Sprintf("www.site%d.example", i)
		for j := range commonPerSite {
			if j%2 == 0 {
				s.common = append(s.common, object{fmt.Sprintf("http://%s/static/app%d.css", s.host, j), logUniform(r, 2<<10, 120<<10), "text/css"})
			} else {
				s.common = append(s.common, object{fmt.Sprintf("http://%s/static/app%d.js", s.host, j), logUniform(r, 5<<10, 300<<10), "application/javascript"})
			}
		}
	}
	m := &Model{Pages: make([]page, c.Pages)}
	for i := range m.Pages {
		s := &sites[r.IntN(len(sites))]
		p := &m.Pages[i]
		p.object = object{fmt.Sprintf("http://%s/page/%d.html", s.host, i), logUniform(r, 4<<10, 150<<10), "text/html"}
		n := minObjects + r.IntN(maxObjects-minObjects+1)
		shared := 2 + r.IntN(commonPerSite-1) // 2 to 6 site-wide objects
		for _, k := range r.Perm(commonPerSite)[:shared] {
			p.embedded = append(p.embedded, s.common[k])
		}
		for j := range n - shared {
			p.embedded = append(p.embedded, object{fmt.Sprintf("http://%s/img/%d/%d.jpg", s.host, i, j), logUniform(r, 1<<10, 600<<10), "image/jpeg"})
		}
	}
	return m
}

// zipf draws ranks with probability proportional to 1/(rank+1)^s.
type zipf struct{ cdf []float64 }

func newZipf(n int, s float64) zipf {
	cdf := make([]float64, n)
	sum := 0.0
	for i := range cdf {
		sum += math.Pow(float64(i+1), -s)
		cdf[i] = sum
	}
	for i := range cdf {
		cdf[i] /= sum
	}
	return zipf{cdf}
}

func (z zipf) draw(r *rand.Rand) int {
	return min(sort.SearchFloat64s(z.cdf, r.Float64()), len(z.cdf)-1)
}

// clientQueue orders clients by the time of their next view.
type clientQueue []clientNext

type clientNext struct {
	client int
	at     int64
}

func (q clientQueue) Len() int { return len(q) }
func (q clientQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || q[i].at == q[j].at && q[i].client < q[j].client
}
func (q clientQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *clientQueue) Push(x any)   { *q = append(*q, x.(clientNext)) }
func (q *clientQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// Generate returns the first c.Requests lines of the trace, in time order.
// Views are generated client by client in order of start time, so every
// view that starts before the last line is complete except, possibly, the
// last of each client. Fields of c out of range give an error.
func Generate(c Config) ([]Event, error) {
	c = c.withDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	m := NewModel(c)
	r := rand.New(rand.NewPCG(c.Seed, 0x7472616365))
	popularity := newZipf(len(m.Pages), c.Zipf)
	rank := r.Perm(len(m.Pages)) // popularity rank → page, so page 0 is not always the hottest
	q := make(clientQueue, c.Clients)
	for i := range q {
		q[i] = clientNext{i, startMillis + r.Int64N(60_000)}
	}
	heap.Init(&q)
	events := make([]Event, 0, c.Requests+maxObjects)
	downloads := 0
	for len(events) < c.Requests {
		cn := heap.Pop(&q).(clientNext)
		t := cn.at
		add := func(o object, pg int, elapsed int64) {
			events = append(events, Event{Millis: t, Elapsed: elapsed, Client: cn.client, Obj: o, Page: pg, seq: len(events)})
		}
		if r.Float64() < c.OneTimers {
			size := logUniform(r, 1<<20, 256<<20)
			add(object{fmt.Sprintf("http://dl.example/file/%d.iso", downloads), size, "application/octet-stream"}, -1, size/(4<<10))
			downloads++
			t += size / (4 << 10) // a download at about 4 MB/s
		} else {
			pg := rank[popularity.draw(r)]
			p := &m.Pages[pg]
			add(p.object, pg, 20+r.Int64N(200))
			t += 50 + r.Int64N(150) // parse the HTML before asking for objects
			for _, o := range p.embedded {
				add(o, pg, 5+r.Int64N(100))
				t += 5 + r.Int64N(60)
			}
		}
		think := 1000 + int64(r.ExpFloat64()*20_000)
		heap.Push(&q, clientNext{cn.client, t + think})
	}
	slices.SortStableFunc(events, func(a, b Event) int {
		if a.Millis != b.Millis {
			return int(a.Millis - b.Millis)
		}
		return a.seq - b.seq
	})
	return events[:c.Requests], nil
}

// clientAddr is the address of client i: 10.x.y.z from i+1.
func clientAddr(dst []byte, i int) []byte {
	i++
	dst = append(dst, "10."...)
	dst = strconv.AppendInt(dst, int64(i>>16&255), 10)
	dst = append(dst, '.')
	dst = strconv.AppendInt(dst, int64(i>>8&255), 10)
	dst = append(dst, '.')
	return strconv.AppendInt(dst, int64(i&255), 10)
}

// appendSquid appends e as Squid's native format prints it:
// "%9d.%03d %6d %s %s/%03d %d %s %s %s %s/%s %s".
func (e *Event) appendSquid(dst []byte) []byte {
	dst = strconv.AppendInt(dst, e.Millis/1000, 10)
	dst = append(dst, '.')
	ms := e.Millis % 1000
	dst = append(dst, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), ' ')
	el := strconv.FormatInt(e.Elapsed, 10)
	for range 6 - len(el) {
		dst = append(dst, ' ')
	}
	dst = append(dst, el...)
	dst = append(dst, ' ')
	dst = clientAddr(dst, e.Client)
	dst = append(dst, " TCP_MISS/200 "...)
	dst = strconv.AppendInt(dst, e.Obj.size, 10)
	dst = append(dst, " GET "...)
	dst = append(dst, e.Obj.url...)
	dst = append(dst, " - HIER_DIRECT/"...)
	host := e.Obj.url[len("http://"):]
	for i := range len(host) {
		if host[i] == '/' {
			host = host[:i]
			break
		}
	}
	dst = append(dst, host...)
	dst = append(dst, ' ')
	dst = append(dst, e.Obj.ctype...)
	return append(dst, '\n')
}
