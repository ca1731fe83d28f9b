package cache

import (
	"errors"
	"testing"

	"edgeproxy/codec"
)

type storableCase struct {
	name    string
	req     *codec.Request
	status  int
	headers []string
	cl      int64
	want    bool
}

func runStorable(t *testing.T, cases []storableCase) {
	t.Helper()
	c := New(Options{Memory: 8 << 20, MaxObject: 1 << 20})
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			if req == nil {
				req = newReq("GET", "http://h/x")
			}
			status := tt.status
			if status == 0 {
				status = 200
			}
			m := &Meta{Status: status, Header: hdrs(tt.headers...), ResponseTime: t0, ContentLength: tt.cl}
			if got := c.Storable(req, m); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRFC9111_3_StorableMethodAndStatus(t *testing.T) {
	runStorable(t, []storableCase{
		{name: "GET 200 heuristic", want: true},
		{name: "HEAD is not stored", req: newReq("HEAD", "http://h/x"), want: false},
		{name: "POST is not stored", req: newReq("POST", "http://h/x"), headers: []string{"Cache-Control", "max-age=60"}, want: false},
		{name: "206 is not stored", status: 206, headers: []string{"Cache-Control", "max-age=60"}, want: false},
		{name: "304 is not stored", status: 304, headers: []string{"Cache-Control", "max-age=60"}, want: false},
		{name: "1xx is not final", status: 103, want: false},
		{name: "404 heuristic", status: 404, want: true},
		{name: "410 heuristic", status: 410, want: true},
		{name: "302 without explicit freshness", status: 302, want: false},
		{name: "302 with max-age", status: 302, headers: []string{"Cache-Control", "max-age=60"}, want: true},
		{name: "500 with Expires", status: 500, headers: []string{"Expires", httpDate(t0.Add(60e9))}, want: true},
		{name: "503 with public", status: 503, headers: []string{"Cache-Control", "public"}, want: true},
	})
}

func TestRFC9111_5_2_2_5_NoStore(t *testing.T) {
	runStorable(t, []storableCase{
		{name: "response no-store", headers: []string{"Cache-Control", "no-store, max-age=60"}, want: false},
		{name: "request no-store", req: newReq("GET", "http://h/x", "Cache-Control", "no-store"), want: false},
		{name: "no-cache is storable", headers: []string{"Cache-Control", "no-cache"}, want: true},
	})
}

func TestRFC9111_5_2_2_3_MustUnderstand(t *testing.T) {
	runStorable(t, []storableCase{
		{name: "understood status overrides no-store", headers: []string{"Cache-Control", "must-understand, no-store, max-age=60"}, want: true},
		{name: "unknown status refused", status: 299, headers: []string{"Cache-Control", "must-understand, max-age=60"}, want: false},
	})
}

func TestRFC9111_5_2_2_7_Private(t *testing.T) {
	runStorable(t, []storableCase{
		{name: "private", headers: []string{"Cache-Control", "private, max-age=60"}, want: false},
		{name: "qualified private", headers: []string{"Cache-Control", `private="Set-Cookie", max-age=60`}, want: false},
	})
}

func TestRFC9111_3_5_Authorization(t *testing.T) {
	auth := func() *codec.Request { return newReq("GET", "http://h/x", "Authorization", "Basic Zm9vOmJhcg==") }
	runStorable(t, []storableCase{
		{name: "plain max-age", req: auth(), headers: []string{"Cache-Control", "max-age=60"}, want: false},
		{name: "public", req: auth(), headers: []string{"Cache-Control", "public, max-age=60"}, want: true},
		{name: "s-maxage", req: auth(), headers: []string{"Cache-Control", "s-maxage=60"}, want: true},
		{name: "must-revalidate", req: auth(), headers: []string{"Cache-Control", "must-revalidate, max-age=60"}, want: true},
	})
}

func TestRFC9111_4_1_VaryStarNotStored(t *testing.T) {
	runStorable(t, []storableCase{
		{name: "Vary: *", headers: []string{"Cache-Control", "max-age=60", "Vary", "*"}, want: false},
		{name: "Vary list with *", headers: []string{"Cache-Control", "max-age=60", "Vary", "Accept, *"}, want: false},
		{name: "Vary: Accept", headers: []string{"Cache-Control", "max-age=60", "Vary", "Accept"}, want: true},
	})
}

func TestStorableMaxObject(t *testing.T) {
	runStorable(t, []storableCase{
		{name: "at MaxObject", cl: 1 << 20, headers: []string{"Cache-Control", "max-age=60"}, want: true},
		{name: "over MaxObject", cl: 1<<20 + 1, headers: []string{"Cache-Control", "max-age=60"}, want: false},
		{name: "unknown length", cl: -1, headers: []string{"Cache-Control", "max-age=60"}, want: true},
	})
}

func TestNotStorableWriterRefusesCommitAndSharing(t *testing.T) {
	c := smallCache()
	req := newReq("GET", "http://h/private")
	r := resp{headers: []string{"Cache-Control", "private, max-age=60"}, body: "secret"}
	w := c.NewWriter(AppendKey(nil, req), req, r.meta())
	if _, err := w.NewReader().Read(make([]byte, 8)); !errors.Is(err, ErrNotShared) {
		t.Fatalf("reader: got %v, want %v", err, ErrNotShared)
	}
	if _, err := w.Write([]byte(r.body)); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); !errors.Is(err, ErrNotStorable) {
		t.Fatalf("commit: got %v, want %v", err, ErrNotStorable)
	}
	if g := get(c, req, t0); g.d != Miss {
		t.Fatalf("got %v, want miss", g.d)
	}
}
