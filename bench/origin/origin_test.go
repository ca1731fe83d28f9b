package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startOrigin serves a fresh origin on 127.0.0.1:0 for the test's lifetime.
func startOrigin(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer("max-age=3600")
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	return "http://" + ln.Addr().String()
}

func get(t *testing.T, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp, b
}

func TestObjectSizesAndDeterminism(t *testing.T) {
	base := startOrigin(t)
	for _, tc := range []struct {
		class string
		want  int
	}{{"1", 1}, {"512", 512}, {"1k", 1024}, {"64k", 65536}, {"1m", 1 << 20}} {
		t.Run(tc.class, func(t *testing.T) {
			url := base + "/obj/" + tc.class + "/7"
			resp, b := get(t, url, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("status: got %d, want 200", resp.StatusCode)
			}
			if len(b) != tc.want {
				t.Fatalf("body size: got %d, want %d", len(b), tc.want)
			}
			if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(tc.want) {
				t.Fatalf("Content-Length: got %q, want %q", cl, strconv.Itoa(tc.want))
			}
			_, again := get(t, url+"?cc=no-store", nil)
			if string(again) != string(b) {
				t.Fatal("body differs between two requests for the same path")
			}
			_, other := get(t, base+"/obj/"+tc.class+"/8", nil)
			if tc.want >= 16 && string(other) == string(b) {
				t.Fatal("different ids gave the same body")
			}
		})
	}
}

func TestBadPaths(t *testing.T) {
	base := startOrigin(t)
	for _, tc := range []struct {
		path string
		want int
	}{{"/obj/1g/1", 400}, {"/obj/xk/1", 400}, {"/obj/1k/", 404}, {"/obj/1k", 404}, {"/nope", 404}} {
		resp, _ := get(t, base+tc.path, nil)
		if resp.StatusCode != tc.want {
			t.Errorf("%s: got %d, want %d", tc.path, resp.StatusCode, tc.want)
		}
	}
}

func TestValidatorsAndCacheControl(t *testing.T) {
	base := startOrigin(t)
	resp, _ := get(t, base+"/obj/1k/1", nil)
	etag := resp.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) {
		t.Fatalf("ETag: got %q, want a quoted strong validator", etag)
	}
	if lm := resp.Header.Get("Last-Modified"); lm != "Mon, 01 Jan 2024 00:00:00 GMT" {
		t.Fatalf("Last-Modified: got %q", lm)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "max-age=3600" {
		t.Fatalf("default Cache-Control: got %q, want %q", cc, "max-age=3600")
	}
	resp, _ = get(t, base+"/obj/1k/1?cc=no-store", nil)
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("query Cache-Control: got %q, want %q", cc, "no-store")
	}
	resp, b := get(t, base+"/obj/1k/1", map[string]string{"If-None-Match": etag})
	if resp.StatusCode != 304 || len(b) != 0 {
		t.Fatalf("If-None-Match: got %d with %d bytes, want 304 empty", resp.StatusCode, len(b))
	}
	resp, _ = get(t, base+"/obj/1k/1", map[string]string{"If-Modified-Since": "Tue, 02 Jan 2024 00:00:00 GMT"})
	if resp.StatusCode != 304 {
		t.Fatalf("If-Modified-Since: got %d, want 304", resp.StatusCode)
	}
	resp, _ = get(t, base+"/obj/1k/1", map[string]string{"If-None-Match": `"other"`})
	if resp.StatusCode != 200 {
		t.Fatalf("mismatched If-None-Match: got %d, want 200", resp.StatusCode)
	}
}

func TestStatsAndReset(t *testing.T) {
	base := startOrigin(t)
	for i := 0; i < 3; i++ {
		get(t, base+"/obj/1k/"+strconv.Itoa(i), nil)
	}
	_, b := get(t, base+"/__stats", nil)
	if got := strings.TrimSpace(string(b)); got != `{"requests":3}` {
		t.Fatalf("stats: got %q, want %q", got, `{"requests":3}`)
	}
	get(t, base+"/__reset", nil)
	_, b = get(t, base+"/__stats", nil)
	if got := strings.TrimSpace(string(b)); got != `{"requests":0}` {
		t.Fatalf("stats after reset: got %q, want %q", got, `{"requests":0}`)
	}
}

func TestDelay(t *testing.T) {
	base := startOrigin(t)
	start := time.Now()
	get(t, base+"/obj/1k/1?delay=150ms", nil)
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Fatalf("delay: answered after %v, want ≥150ms", el)
	}
}

func TestChunked(t *testing.T) {
	base := startOrigin(t)
	resp, b := get(t, base+"/obj/64k/1?chunked=1", nil)
	if len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("Transfer-Encoding: got %v, want [chunked]", resp.TransferEncoding)
	}
	_, plain := get(t, base+"/obj/64k/1", nil)
	if string(b) != string(plain) {
		t.Fatal("chunked body differs from the plain body")
	}
}

// rawGet sends a GET on a raw connection and returns everything read until
// the peer closes, and the read error that ended it.
func rawGet(t *testing.T, base, path string) ([]byte, error) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return out, err
		}
	}
}

func TestTruncateReallyTruncates(t *testing.T) {
	base := startOrigin(t)
	out, err := rawGet(t, base, "/obj/64k/1?truncate=1000")
	if !errors.Is(err, io.EOF) {
		t.Fatalf("end of truncated response: got %v, want EOF", err)
	}
	resp, rerr := http.ReadResponse(bufio.NewReader(strings.NewReader(string(out))), nil)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if resp.ContentLength != 65536 {
		t.Fatalf("announced Content-Length: got %d, want 65536", resp.ContentLength)
	}
	b, err := io.ReadAll(resp.Body)
	if len(b) != 1000 {
		t.Fatalf("body bytes: got %d, want 1000", len(b))
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("body read error: got %v, want unexpected EOF", err)
	}
	_, full := get(t, base+"/obj/64k/1", nil)
	if string(b) != string(full[:1000]) {
		t.Fatal("truncated prefix differs from the full body")
	}
}

func TestResetReallyResets(t *testing.T) {
	base := startOrigin(t)
	out, err := rawGet(t, base, "/obj/1k/1?reset=1")
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("got %v after %d bytes, want connection reset", err, len(out))
	}
	if len(out) != 0 {
		t.Fatalf("got %d bytes before the reset, want 0", len(out))
	}
}

func TestSource(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go serveSource(ln)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	const want = 3<<20 + 5
	fmt.Fprintf(c, "%d\n", want)
	n, err := io.Copy(io.Discard, c)
	if err != nil || n != want {
		t.Fatalf("source: got %d bytes (%v), want %d", n, err, want)
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{{"0", 0, true}, {"1k", 1024, true}, {"1M", 1 << 20, true}, {"64m", 64 << 20, true}, {"65m", 0, false}, {"", 0, false}, {"k", 0, false}, {"-1", 0, false}} {
		got, err := parseSize([]byte(tc.in))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSize(%q): got %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
