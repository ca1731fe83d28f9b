package cache

import (
	"strings"
	"testing"
)

func TestRFC9111_4_1_VariantsSideBySide(t *testing.T) {
	c := smallCache()
	u := "http://h/v"
	for _, enc := range []string{"gzip", "br", ""} {
		var reqH []string
		if enc != "" {
			reqH = []string{"Accept-Encoding", enc}
		}
		put(t, c, newReq("GET", u, reqH...), resp{headers: []string{"Cache-Control", "max-age=60", "Vary", "Accept-Encoding"}, body: "body-" + enc})
	}
	tests := []struct {
		reqH []string
		want string
		d    Decision
	}{
		{[]string{"Accept-Encoding", "gzip"}, "body-gzip", Fresh},
		{[]string{"accept-encoding", "  gzip "}, "body-gzip", Fresh},
		{[]string{"Accept-Encoding", "br"}, "body-br", Fresh},
		{nil, "body-", Fresh},
		{[]string{"Accept-Encoding", ""}, "", Miss},
		{[]string{"Accept-Encoding", "deflate"}, "", Miss},
		{[]string{"Accept-Encoding", "gzip", "Accept-Encoding", "br"}, "", Miss},
	}
	for _, tt := range tests {
		g := get(c, newReq("GET", u, tt.reqH...), t0)
		if g.d != tt.d || g.body != tt.want {
			t.Errorf("%q: got %v %q, want %v %q", tt.reqH, g.d, g.body, tt.d, tt.want)
		}
	}
}

func TestRFC9111_4_1_VaryOnSeveralFields(t *testing.T) {
	c := smallCache()
	u := "http://h/v2"
	h := []string{"Cache-Control", "max-age=60", "Vary", "Accept-Language", "Vary", "X-Tenant"}
	put(t, c, newReq("GET", u, "Accept-Language", "en", "X-Tenant", "a"), resp{headers: h, body: "en-a"})
	put(t, c, newReq("GET", u, "Accept-Language", "en", "X-Tenant", "b"), resp{headers: h, body: "en-b"})
	if g := get(c, newReq("GET", u, "X-Tenant", "b", "Accept-Language", "en"), t0); g.body != "en-b" {
		t.Fatalf("got %v %q, want en-b", g.d, g.body)
	}
	if g := get(c, newReq("GET", u, "Accept-Language", "en"), t0); g.d != Miss {
		t.Fatalf("missing X-Tenant: got %v, want miss", g.d)
	}
}

func TestRFC9111_4_1_VaryChangeReplacesObject(t *testing.T) {
	c := smallCache()
	u := "http://h/v3"
	put(t, c, newReq("GET", u), resp{headers: []string{"Cache-Control", "max-age=60"}, body: "plain"})
	put(t, c, newReq("GET", u, "Accept", "a"), resp{headers: []string{"Cache-Control", "max-age=60", "Vary", "Accept"}, body: "varied"})
	if g := get(c, newReq("GET", u), t0); g.d != Miss {
		t.Fatalf("no Accept: got %v %q, want miss", g.d, g.body)
	}
	if g := get(c, newReq("GET", u, "Accept", "a"), t0); g.body != "varied" {
		t.Fatalf("got %q, want varied", g.body)
	}
	put(t, c, newReq("GET", u), resp{headers: []string{"Cache-Control", "max-age=60"}, body: "plain again"})
	if g := get(c, newReq("GET", u, "Accept", "a"), t0); g.body != "plain again" {
		t.Fatalf("got %q, want the unvaried object", g.body)
	}
}

func TestRFC9111_4_4_InvalidateRemovesAllVariants(t *testing.T) {
	c := smallCache()
	u := "http://h/inv"
	large := strings.Repeat("L", 100<<10)
	for _, lang := range []string{"en", "fr", "de"} {
		body := "small-" + lang
		if lang == "de" {
			body = large
		}
		put(t, c, newReq("GET", u, "Accept-Language", lang), resp{headers: []string{"Cache-Control", "max-age=60", "Vary", "accept-language"}, body: body})
	}
	if s := c.Stats(); s.LargeObjects != 1 {
		t.Fatalf("large objects: got %d, want 1", s.LargeObjects)
	}
	if !c.Invalidate(AppendKey(nil, newReq("GET", u))) {
		t.Fatal("Invalidate: got false, want true")
	}
	for _, lang := range []string{"en", "fr", "de"} {
		if g := get(c, newReq("GET", u, "Accept-Language", lang), t0); g.d != Miss {
			t.Errorf("%s: got %v, want miss", lang, g.d)
		}
	}
	if s := c.Stats(); s.LargeObjects != 0 || s.LargeBytes != 0 {
		t.Fatalf("tier L after invalidate: %d objects, %d bytes", s.LargeObjects, s.LargeBytes)
	}
	if c.Invalidate(AppendKey(nil, newReq("GET", u))) {
		t.Fatal("second Invalidate: got true, want false")
	}
	put(t, c, newReq("GET", u, "Accept-Language", "en"), resp{headers: []string{"Cache-Control", "max-age=60", "Vary", "accept-language"}, body: "new"})
	if g := get(c, newReq("GET", u, "Accept-Language", "en"), t0); g.body != "new" {
		t.Fatalf("after refill: got %v %q, want new", g.d, g.body)
	}
}
