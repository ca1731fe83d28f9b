package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"edgeproxy/cache/prefetch"
)

// Config is a replay's settings; see the flags in main.go.
type Config struct {
	Log         string
	Proxy       string
	Concurrency int
	Timeout     time.Duration
	Settle      time.Duration
	BindClients bool
}

// request is one GET of the log, rewritten for the synthetic origin.
type request struct {
	client int    // index of the logged client, in order of first appearance
	path   string // request URI at the origin: /HOST/PATH?QUERY
}

// trace is a loaded log.
type trace struct {
	format   string
	read     prefetch.ReadStats
	requests []request
	sizes    map[string]int64 // path → largest logged size
	clients  []string
}

// loadTrace reads the log at path, detecting its format.
func loadTrace(path string) (*trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, prefetch.MaxLine)
	head, err := br.Peek(prefetch.MaxLine)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	format, err := prefetch.DetectFormat(head)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", errFormat, path)
	}
	read := prefetch.ReadSquid
	if format == prefetch.FormatCommon {
		read = prefetch.ReadCommon
	}
	t := &trace{format: format, sizes: make(map[string]int64)}
	index := make(map[string]int)
	t.read, err = read(br, func(client, u string, _ time.Time, bytes int64) {
		i, ok := index[client]
		if !ok {
			i = len(t.clients)
			index[client] = i
			t.clients = append(t.clients, client)
		}
		p := originPath(u)
		t.sizes[p] = max(t.sizes[p], bytes)
		t.requests = append(t.requests, request{i, p})
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(t.requests) == 0 {
		return nil, fmt.Errorf("%w: %s", errEmpty, path)
	}
	return t, nil
}

// originPath maps a logged URL to a request URI of the synthetic origin: an
// absolute URL http://host/path?q becomes /host/path?q; an origin-form URL
// (Common Log Format of a server) is kept.
func originPath(u string) string {
	rest, ok := strings.CutPrefix(u, "http://")
	if !ok {
		rest, ok = strings.CutPrefix(u, "https://")
	}
	if !ok {
		if strings.HasPrefix(u, "/") {
			return u
		}
		return "/" + u
	}
	if !strings.Contains(rest, "/") {
		rest += "/"
	}
	return "/" + rest
}

// Run replays c.Log through c.Proxy and returns what it measured.
func Run(c Config) (*Result, error) {
	if err := checkLoopback(c.Proxy); err != nil {
		return nil, err
	}
	c.Concurrency = max(c.Concurrency, 1)
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	t, err := loadTrace(c.Log)
	if err != nil {
		return nil, err
	}
	if c.BindClients && len(t.clients) > 65535 {
		return nil, errTooManyClients
	}

	var seq atomic.Int64
	o := &origin{sizes: t.sizes, seq: &seq}
	ln, srv, err := startOrigin(o)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	r := &replayer{cfg: c, base: base, seq: &seq, last: make(map[string]int64)}
	r.proxyURL = &url.URL{Scheme: "http", Host: c.Proxy}
	start := time.Now()
	r.run(t)
	elapsed := time.Since(start)
	time.Sleep(c.Settle)
	r.closeIdle()

	res := r.result(o, t)
	res.Seconds = elapsed.Seconds()
	return res, nil
}

// checkLoopback refuses a proxy address off this machine.
func checkLoopback(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return fmt.Errorf("%w: %v", errNotLoopback, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: got %q", errNotLoopback, hostport)
	}
	return nil
}

// replayer sends the requests and counts the answers.
type replayer struct {
	cfg      Config
	base     string // the origin, http://127.0.0.1:port
	proxyURL *url.URL
	seq      *atomic.Int64 // client requests sent so far

	requests, errs, hits atomic.Int64
	bytes, hitBytes      atomic.Int64
	firstErr             atomic.Pointer[string]
	mu                   sync.Mutex       // protects last and transports
	last                 map[string]int64 // path → seq of its last client request
	transports           []*http.Transport
}

// transport returns an HTTP transport through the proxy, connecting from
// local (nil: any address).
func (r *replayer) transport(local net.Addr, idle int) *http.Transport {
	d := &net.Dialer{Timeout: r.cfg.Timeout, LocalAddr: local}
	tr := &http.Transport{
		Proxy:               http.ProxyURL(r.proxyURL),
		DialContext:         d.DialContext,
		MaxIdleConns:        idle,
		MaxIdleConnsPerHost: idle,
		DisableCompression:  true,
	}
	r.mu.Lock()
	r.transports = append(r.transports, tr)
	r.mu.Unlock()
	return tr
}

func (r *replayer) closeIdle() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, tr := range r.transports {
		tr.CloseIdleConnections()
	}
}

// run sends every request of t: each client's in log order on the worker
// its index hashes to.
func (r *replayer) run(t *trace) {
	n := r.cfg.Concurrency
	queues := make([]chan request, n)
	var wg sync.WaitGroup
	shared := r.transport(nil, n)
	seed := maphash.MakeSeed()
	for i := range queues {
		queues[i] = make(chan request, 64)
		wg.Go(func() {
			perClient := map[int]*http.Client{}
			for q := range queues[i] {
				hc := perClient[q.client]
				if hc == nil {
					tr := shared
					if r.cfg.BindClients {
						tr = r.transport(&net.TCPAddr{IP: clientIP(q.client)}, 2)
					}
					hc = &http.Client{Transport: tr, Timeout: r.cfg.Timeout}
					perClient[q.client] = hc
				}
				r.do(hc, q, t.sizes[q.path])
			}
		})
	}
	for _, q := range t.requests {
		queues[maphash.Comparable(seed, q.client)%uint64(n)] <- q
	}
	for _, ch := range queues {
		close(ch)
	}
	wg.Wait()
}

// clientIP is the loopback address of client i under -bind-clients.
func clientIP(i int) net.IP {
	i++
	return net.IPv4(127, 1, byte(i>>8), byte(i))
}

// do sends one request and counts its answer.
func (r *replayer) do(hc *http.Client, q request, size int64) {
	s := r.seq.Add(1)
	r.mu.Lock()
	r.last[q.path] = s
	r.mu.Unlock()
	r.requests.Add(1)

	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+q.path, nil)
	if err != nil {
		r.fail(err.Error())
		return
	}
	resp, err := hc.Do(req)
	if err != nil {
		r.fail(err.Error())
		return
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		r.fail(fmt.Sprintf("%s: body: %v", q.path, err))
		return
	case resp.StatusCode != http.StatusOK:
		r.fail(fmt.Sprintf("%s: status %d", q.path, resp.StatusCode))
		return
	case n != size:
		r.fail(fmt.Sprintf("%s: %d body bytes, want %d", q.path, n, size))
		return
	}
	r.bytes.Add(n)
	if isHit(resp.Header) {
		r.hits.Add(1)
		r.hitBytes.Add(n)
	}
}

func (r *replayer) fail(msg string) {
	r.errs.Add(1)
	r.firstErr.CompareAndSwap(nil, &msg)
}

// isHit reports whether a response was served from the cache: X-Cache as
// Squid writes it ("HIT from name"), or a Cache-Status (RFC 9211) whose last
// member, the one the cache nearest the client added (§2), has the "hit"
// parameter.
func isHit(h http.Header) bool {
	if v := h.Get("X-Cache"); v != "" {
		return len(v) >= 3 && strings.EqualFold(v[:3], "HIT")
	}
	cs := h.Values("Cache-Status")
	if len(cs) == 0 {
		return false
	}
	last := cs[len(cs)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	params := strings.Split(last, ";")
	for _, p := range params[min(1, len(params)):] {
		if strings.EqualFold(strings.TrimSpace(p), "hit") {
			return true
		}
	}
	return false
}
