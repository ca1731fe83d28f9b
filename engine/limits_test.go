package engine

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// Issue 11: Squid's quick_abort rule, with Squid's defaults (16 KiB,
// 16 KiB, 95%) and a wider band.
func TestQuickAbortRule(t *testing.T) {
	def := quickAbort{min: 16 << 10, max: 16 << 10, pct: 95}
	wide := quickAbort{min: 16 << 10, max: 1 << 20, pct: 50}
	for _, tc := range []struct {
		name        string
		q           quickAbort
		got, length int64
		want        bool
	}{
		{"little left", def, 100<<10 - 1000, 100 << 10, true},
		{"much left", def, 1 << 20, 32 << 20, false},
		{"unknown length", def, 1 << 20, -1, false},
		{"more than declared", def, 2 << 20, 1 << 20, false},
		{"in the band, past pct", wide, 900 << 10, 1 << 20, true},
		{"in the band, before pct", wide, 100 << 10, 1 << 20, false},
		{"tiny object", quickAbort{min: 0, max: 1000, pct: 95}, 10, 50, true},
	} {
		if got := tc.q.finish(tc.got, tc.length); got != tc.want {
			t.Errorf("%s: finish(%d, %d): got %v, want %v", tc.name, tc.got, tc.length, got, tc.want)
		}
	}
}

// Issue 11: one client address holds at most its share of workers and its
// cap of connections; others are not affected, and releases make room.
func TestClientTable(t *testing.T) {
	ct := newClientTable()
	a, b := netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.1")
	for i := 0; i < 2; i++ {
		if !ct.add(a, 0, 1, 0, 2) {
			t.Fatalf("worker %d of a: got refused, want taken", i+1)
		}
	}
	if ct.add(a, 0, 1, 0, 2) {
		t.Errorf("third worker of a: got taken, want refused")
	}
	if !ct.add(b, 0, 1, 0, 2) {
		t.Errorf("worker of b: got refused, want taken")
	}
	ct.add(a, 0, -1, 0, 0)
	if !ct.add(a, 0, 1, 0, 2) {
		t.Errorf("a after a release: got refused, want taken")
	}
	if !ct.add(a, 1, 0, 1, 0) || ct.add(a, 1, 0, 1, 0) {
		t.Errorf("connections of a with a cap of 1: want the first taken, the second refused")
	}
	ct.add(a, -1, -2, 0, 0)
	ct.add(b, 0, -1, 0, 0)
	for i := range ct.shards {
		if n := len(ct.shards[i].m); n != 0 {
			t.Errorf("shard %d: got %d addresses left, want 0", i, n)
		}
	}
}

// Issue 11: a streamed body that trickles gets ErrBodyTimeout once its
// window is spent; time the reader spends elsewhere (a slow origin) does not
// count against the client.
func TestBodyMinRate(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() {
		_, _ = io.WriteString(a, "1\r\nx\r\n")
		for {
			time.Sleep(50 * time.Millisecond)
			if _, err := io.WriteString(a, "1\r\nx\r\n"); err != nil {
				return
			}
		}
	}()
	br := newBodyReader(b, upload{chunked: true, length: -1}, 5*time.Second)
	br.setMinRate(300*time.Millisecond, 1000)
	buf := make([]byte, 64)
	var err error
	for range 1000 {
		if _, err = br.Read(buf); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrBodyTimeout) || !br.timedOut() {
		t.Fatalf("trickling body: got %v, want ErrBodyTimeout", err)
	}

	// A fast sender whose reader pauses longer than the window is fine.
	c, d := net.Pipe()
	defer c.Close()
	defer d.Close()
	go func() {
		for range 5 {
			if _, err := io.WriteString(c, "1\r\nx\r\n"); err != nil {
				return
			}
		}
		_, _ = io.WriteString(c, "0\r\n\r\n")
	}()
	br = newBodyReader(d, upload{chunked: true, length: -1}, 5*time.Second)
	br.setMinRate(100*time.Millisecond, 1000)
	var got strings.Builder
	for {
		n, err := br.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			break
		}
		time.Sleep(150 * time.Millisecond) // the origin is slow, not the client
	}
	if got.String() != "xxxxx" || br.err != nil {
		t.Errorf("slow reader: got %q, %v; want the whole body", got.String(), br.err)
	}
}

// Issue 11: small chunks already buffered are handed on in one Read.
func TestBodyReaderCoalesces(t *testing.T) {
	wire := strings.Repeat("1\r\nx\r\n", 1000) + "0\r\n\r\n"
	a, b := net.Pipe()
	defer a.Close()
	br := newBodyReader(b, upload{leftover: []byte(wire), chunked: true, length: -1}, 5*time.Second)
	buf := make([]byte, 4096)
	reads, total := 0, 0
	for {
		n, err := br.Read(buf)
		total += n
		if n > 0 {
			reads++
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if total != 1000 || reads != 1 {
		t.Errorf("got %d bytes in %d reads, want 1000 in 1", total, reads)
	}
}

// Issue 11: pipelined hits behind a backlog wait in stDrain and are all
// answered, in order, once the client reads (the drain timers and the
// sweep's wake resume the connection).
func TestPipelinedHitsResume(t *testing.T) {
	const size, count = 100 << 10, 300
	bodies := map[string]string{"/a": strings.Repeat("a", size), "/b": strings.Repeat("b", size)}
	origin := startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		io.WriteString(w, bodies[r.URL.Path])
	}))
	s := startProxy(t, nil)
	rc := dialRaw(t, s)
	for _, p := range []string{"/a", "/b"} {
		rc.send("GET " + origin + p + " HTTP/1.1\r\nHost: h\r\n\r\n")
		if resp := rc.response("GET"); resp.StatusCode != 200 {
			t.Fatalf("warm %s: got %d, want 200", p, resp.StatusCode)
		}
	}
	var reqs strings.Builder
	for i := range count {
		reqs.WriteString("GET " + origin + []string{"/a", "/b"}[i%2] + " HTTP/1.1\r\nHost: h\r\n\r\n")
	}
	rc.send(reqs.String())
	time.Sleep(400 * time.Millisecond) // past the drain timers: the sweep resumes it
	for i := range count {
		resp := rc.response("GET")
		want := bodies[[]string{"/a", "/b"}[i%2]]
		if got := bodyOf(t, resp); resp.StatusCode != 200 || got != want {
			t.Fatalf("answer %d: got %d with %d bytes, want 200 with the %d bytes of %s", i, resp.StatusCode, len(got), len(want), []string{"/a", "/b"}[i%2])
		}
	}
}
