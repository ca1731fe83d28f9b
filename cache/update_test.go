package cache

import (
	"strings"
	"testing"
	"time"
)

func TestRFC9111_4_3_4_FreshenWith304(t *testing.T) {
	for _, size := range []int{10, 100 << 10} {
		t.Run(map[int]string{10: "tier S", 100 << 10: "tier L"}[size], func(t *testing.T) {
			c := smallCache()
			req := newReq("GET", "http://h/r")
			body := strings.Repeat("b", size)
			put(t, c, req, resp{headers: []string{
				"Date", httpDate(t0), "Cache-Control", "max-age=10", "ETag", `"v1"`, "X-Old", "keep", "X-Repl", "old", "Content-Type", "text/plain",
			}, body: body})
			at := t0.Add(time.Minute)
			if g := get(c, req, at); g.d != StaleRevalidate || g.etag != `"v1"` {
				t.Fatalf("before: got %v etag %q", g.d, g.etag)
			}
			m := &Meta{Status: 304, RequestTime: at, ResponseTime: at, ContentLength: -1, Header: hdrs(
				"Date", httpDate(at), "Cache-Control", "max-age=100", "ETag", `"v1"`, "X-Repl", "new", "Content-Length", "0", "Age", "5",
			)}
			if !c.Freshen(AppendKey(nil, req), req, m) {
				t.Fatal("Freshen: got false, want true")
			}
			g := get(c, req, at.Add(10*sec))
			if g.d != Fresh || g.age != 15*sec || g.ttl != 85*sec {
				t.Fatalf("after: got %v age %v ttl %v, want fresh 15s 85s", g.d, g.age, g.ttl)
			}
			if g.body != body || g.size != int64(size) {
				t.Fatalf("body changed: %d bytes", len(g.body))
			}
			want := "X-Old: keep\r\nContent-Type: text/plain\r\nDate: " + httpDate(at) + "\r\nCache-Control: max-age=100\r\nETag: \"v1\"\r\nX-Repl: new\r\n"
			if g.header != want {
				t.Fatalf("header: got %q, want %q", g.header, want)
			}
		})
	}
}

func TestRFC9111_4_3_4_FreshenOtherValidatorRefused(t *testing.T) {
	c := smallCache()
	req := newReq("GET", "http://h/r2")
	lm := httpDate(t0.Add(-time.Hour))
	put(t, c, req, resp{headers: []string{"Cache-Control", "max-age=10", "ETag", `"v1"`, "Last-Modified", lm}, body: "x"})
	key := AppendKey(nil, req)
	for _, h := range [][]string{
		{"ETag", `"v2"`},
		{"ETag", `W/"v2"`},
		{"Last-Modified", httpDate(t0)},
	} {
		if c.Freshen(key, req, &Meta{Status: 304, ResponseTime: t0, Header: hdrs(h...)}) {
			t.Errorf("%q: got true, want false", h)
		}
	}
	if !c.Freshen(key, req, &Meta{Status: 304, ResponseTime: t0, Header: hdrs("ETag", `W/"v1"`)}) {
		t.Error("weak match: got false, want true")
	}
	if !c.Freshen(key, req, &Meta{Status: 304, ResponseTime: t0, Header: hdrs("Cache-Control", "max-age=5")}) {
		t.Error("no validators: got false, want true")
	}
}

func TestRFC9111_4_3_4_FreshenMissingEntry(t *testing.T) {
	c := smallCache()
	req := newReq("GET", "http://h/gone")
	if c.Freshen(AppendKey(nil, req), req, &Meta{Status: 304, ResponseTime: t0}) {
		t.Fatal("got true, want false")
	}
}

func TestRFC9111_4_3_4_FreshenVariant(t *testing.T) {
	c := smallCache()
	u := "http://h/fv"
	h := []string{"Date", httpDate(t0), "Cache-Control", "max-age=10", "Vary", "Accept-Language"}
	put(t, c, newReq("GET", u, "Accept-Language", "en"), resp{headers: h, body: "en"})
	put(t, c, newReq("GET", u, "Accept-Language", "fr"), resp{headers: h, body: "fr"})
	at := t0.Add(time.Minute)
	fr := newReq("GET", u, "Accept-Language", "fr")
	if !c.Freshen(AppendKey(nil, fr), fr, &Meta{Status: 304, RequestTime: at, ResponseTime: at, Header: hdrs("Date", httpDate(at), "Cache-Control", "max-age=60")}) {
		t.Fatal("Freshen: got false")
	}
	if g := get(c, fr, at); g.d != Fresh || g.body != "fr" {
		t.Fatalf("fr: got %v %q, want fresh fr", g.d, g.body)
	}
	if g := get(c, newReq("GET", u, "Accept-Language", "en"), at); g.d != StaleRevalidate || g.body != "en" {
		t.Fatalf("en: got %v %q, want stale en", g.d, g.body)
	}
}

func TestRFC9111_4_4_InvalidatePlainObject(t *testing.T) {
	c := smallCache()
	req := newReq("GET", "http://h/i")
	put(t, c, req, resp{headers: []string{"Cache-Control", "max-age=60"}, body: "x"})
	if !c.Invalidate(AppendKey(nil, req)) {
		t.Fatal("got false, want true")
	}
	if g := get(c, req, t0); g.d != Miss {
		t.Fatalf("got %v, want miss", g.d)
	}
}
