package cache

import (
	"strings"
	"testing"
	"time"

	"edgeproxy/codec"
)

// t0 is the reference clock of the tests: responses arrive at t0 unless a
// test says otherwise.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// httpDate formats t as an IMF-fixdate.
func httpDate(t time.Time) string { return string(codec.AppendHTTPDate(nil, t)) }

// newReq builds an absolute-form request by hand: url is
// scheme://host[:port]/path, headers alternate names and values.
func newReq(method, url string, headers ...string) *codec.Request {
	r := &codec.Request{Method: []byte(method), Target: []byte(url), Form: codec.FormAbsolute, Minor: 1, ContentLength: -1}
	scheme, rest, _ := strings.Cut(url, "://")
	authority, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	host, port := authority, ""
	if i := strings.LastIndexByte(authority, ':'); i >= 0 && !strings.HasSuffix(authority, "]") {
		host, port = authority[:i], authority[i+1:]
	}
	r.Scheme, r.Host, r.Path = []byte(scheme), []byte(host), []byte(path)
	if port != "" {
		r.Port = []byte(port)
	}
	r.HostHeader = []byte(authority)
	r.Headers = hdrs(headers...)
	return r
}

// hdrs builds header views from alternating names and values.
func hdrs(kv ...string) []codec.Header {
	var h []codec.Header
	for i := 0; i+1 < len(kv); i += 2 {
		h = append(h, codec.Header{Name: []byte(kv[i]), Value: []byte(kv[i+1])})
	}
	return h
}

// resp describes an origin response for put.
type resp struct {
	status  int
	headers []string
	body    string
	at      time.Time // response_time; t0 when zero
	sent    time.Time // request_time; at when zero
	noCL    bool      // send no Content-Length
}

// meta builds the Meta of a response.
func (r resp) meta() *Meta {
	at := r.at
	if at.IsZero() {
		at = t0
	}
	sent := r.sent
	if sent.IsZero() {
		sent = at
	}
	status := r.status
	if status == 0 {
		status = 200
	}
	cl := int64(len(r.body))
	if r.noCL {
		cl = -1
	}
	return &Meta{Status: status, Header: hdrs(r.headers...), RequestTime: sent, ResponseTime: at, ContentLength: cl}
}

// put stores r as the response to req and fails the test if it is refused.
func put(t testing.TB, c *Cache, req *codec.Request, r resp) {
	t.Helper()
	if err := tryPut(c, req, r); err != nil {
		t.Fatalf("store %s: %v", req.Target, err)
	}
}

// tryPut stores r as the response to req.
func tryPut(c *Cache, req *codec.Request, r resp) error {
	w := c.NewWriter(AppendKey(nil, req), req, r.meta())
	if _, err := w.Write([]byte(r.body)); err != nil {
		return err
	}
	return w.Commit()
}

// got is a copy of what a Lookup callback saw.
type got struct {
	d            Decision
	called       bool
	status       int
	header, body string
	size         int64
	age, ttl     time.Duration
	etag, lm     string
	notModified  bool
}

// get looks req up at now and copies the hit.
func get(c *Cache, req *codec.Request, now time.Time) got {
	var g got
	g.d = c.Lookup(AppendKey(nil, req), req, now, func(h Hit, d Decision) {
		g.called = true
		g.status, g.header, g.body, g.size = h.Status, string(h.Header), string(h.Body), h.Size
		g.age, g.ttl, g.etag, g.lm = h.Age, h.TTL, string(h.ETag), string(h.LastModified)
		g.notModified = NotModified(req, &h)
		if h.Large != nil {
			b := make([]byte, h.Size)
			if _, err := h.Large.ReadAt(b, 0); err != nil {
				panic(err)
			}
			g.body = string(b)
		}
	})
	return g
}

// smallCache is a cache for unit tests: 8 MiB tier S (8 KiB entries),
// 64 MiB tier L.
func smallCache() *Cache {
	return New(Options{Memory: 8 << 20, LargeMemory: 64 << 20})
}
