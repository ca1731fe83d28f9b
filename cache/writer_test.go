package cache

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestWriterShortBodyRefusesCommit(t *testing.T) {
	c := smallCache()
	req := newReq("GET", "http://h/short")
	m := resp{headers: []string{"Cache-Control", "max-age=60"}}.meta()
	m.ContentLength = 10
	w := c.NewWriter(AppendKey(nil, req), req, m)
	r := w.NewReader()
	if _, err := w.Write([]byte("12345")); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); !errors.Is(err, ErrLength) {
		t.Fatalf("commit: got %v, want %v", err, ErrLength)
	}
	if b, err := io.ReadAll(r); !errors.Is(err, ErrLength) || string(b) != "12345" {
		t.Fatalf("reader: got %q %v, want the 5 bytes then %v", b, err, ErrLength)
	}
	if g := get(c, req, t0); g.d != Miss {
		t.Fatalf("got %v, want miss", g.d)
	}
}

func TestWriterLongBodyRefused(t *testing.T) {
	c := smallCache()
	req := newReq("GET", "http://h/long")
	m := resp{headers: []string{"Cache-Control", "max-age=60"}}.meta()
	m.ContentLength = 3
	w := c.NewWriter(AppendKey(nil, req), req, m)
	if _, err := w.Write([]byte("1234")); !errors.Is(err, ErrLength) {
		t.Fatalf("write: got %v, want %v", err, ErrLength)
	}
	if err := w.Commit(); !errors.Is(err, ErrLength) {
		t.Fatalf("commit: got %v, want %v", err, ErrLength)
	}
}

func TestWriterUnknownLengthOverrunAborts(t *testing.T) {
	c := New(Options{Memory: 8 << 20, MaxObject: 1 << 20})
	req := newReq("GET", "http://h/overrun")
	w := c.NewWriter(AppendKey(nil, req), req, resp{headers: []string{"Cache-Control", "max-age=60"}, noCL: true}.meta())
	r := w.NewReader()
	chunk := bytes.Repeat([]byte("z"), 64<<10)
	var err error
	written := 0
	for i := 0; i < 17 && err == nil; i++ {
		var n int
		n, err = w.Write(chunk)
		written += n
	}
	if !errors.Is(err, ErrTooLarge) || written != 1<<20 {
		t.Fatalf("got %v after %d bytes, want %v after %d", err, written, ErrTooLarge, 1<<20)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("write after overrun: got %v, want %v", err, ErrTooLarge)
	}
	if err := w.Commit(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("commit: got %v, want %v", err, ErrTooLarge)
	}
	if b, err := io.ReadAll(r); !errors.Is(err, ErrTooLarge) || len(b) != 1<<20 {
		t.Fatalf("follower: got %d bytes and %v, want %d and %v", len(b), err, 1<<20, ErrTooLarge)
	}
	if g := get(c, req, t0); g.d != Miss {
		t.Fatalf("got %v, want miss", g.d)
	}
}

func TestWriterUnknownLengthStored(t *testing.T) {
	c := smallCache()
	for _, size := range []int{0, 100, 5000, 300 << 10, 700<<10 + 3} {
		req := newReq("GET", "http://h/unknown")
		body := strings.Repeat("u", size)
		put(t, c, req, resp{headers: []string{"Cache-Control", "max-age=60"}, body: body, noCL: true})
		if g := get(c, req, t0); g.d != Fresh || g.body != body || g.size != int64(size) {
			t.Fatalf("size %d: got %v with %d bytes", size, g.d, len(g.body))
		}
	}
}

func TestFollowReaderStreamsThenEOF(t *testing.T) {
	c := smallCache()
	req := newReq("GET", "http://h/follow")
	body := bytes.Repeat([]byte("0123456789abcdef"), 40<<10) // 640 KiB: three chunks
	w := c.NewWriter(AppendKey(nil, req), req, resp{headers: []string{"Cache-Control", "max-age=60"}, body: string(body)}.meta())
	r := w.NewReader()
	buf := make([]byte, 100<<10)
	step := 100 << 10
	var got []byte
	for off := 0; off < len(body); off += step {
		end := min(off+step, len(body))
		if _, err := w.Write(body[off:end]); err != nil {
			t.Fatal(err)
		}
		// The follower sees exactly what has been written, before Commit.
		for len(got) < end {
			n, err := r.Read(buf)
			if err != nil {
				t.Fatalf("read at %d: %v", len(got), err)
			}
			got = append(got, buf[:n]...)
		}
	}
	blocked := make(chan error, 1)
	go func() {
		_, err := r.Read(buf)
		blocked <- err
	}()
	select {
	case err := <-blocked:
		t.Fatalf("read returned %v before commit, want it to block", err)
	case <-time.After(20 * time.Millisecond):
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-blocked; err != io.EOF {
		t.Fatalf("after commit: got %v, want EOF", err)
	}
	if !bytes.Equal(got, body) {
		t.Fatal("follower body differs")
	}
	late := w.NewReader()
	if b, err := io.ReadAll(late); err != nil || !bytes.Equal(b, body) {
		t.Fatalf("late reader: %d bytes, %v", len(b), err)
	}
}

func TestFollowReaderAborted(t *testing.T) {
	c := smallCache()
	req := newReq("GET", "http://h/abort")
	w := c.NewWriter(AppendKey(nil, req), req, resp{headers: []string{"Cache-Control", "max-age=60"}, noCL: true}.meta())
	r := w.NewReader()
	done := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(r)
		done <- err
	}()
	if _, err := w.Write([]byte("partial")); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if err := <-done; !errors.Is(err, ErrAborted) {
		t.Fatalf("got %v, want %v", err, ErrAborted)
	}
	if err := w.Commit(); !errors.Is(err, ErrAborted) {
		t.Fatalf("commit after abort: got %v, want %v", err, ErrAborted)
	}
	if g := get(c, req, t0); g.d != Miss {
		t.Fatalf("got %v, want miss", g.d)
	}
}

func TestFollowReaderCloseWakesRead(t *testing.T) {
	c := smallCache()
	req := newReq("GET", "http://h/close")
	w := c.NewWriter(AppendKey(nil, req), req, resp{headers: []string{"Cache-Control", "max-age=60"}, noCL: true}.meta())
	r := w.NewReader()
	done := make(chan error, 1)
	go func() {
		_, err := r.Read(make([]byte, 10))
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	r.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v, want %v", err, ErrClosed)
	}
	w.Abort()
}

func TestWriterAfterCommit(t *testing.T) {
	c := smallCache()
	req := newReq("GET", "http://h/after")
	w := c.NewWriter(AppendKey(nil, req), req, resp{headers: []string{"Cache-Control", "max-age=60"}, body: "ab"}.meta())
	if _, err := w.Write([]byte("ab")); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("c")); !errors.Is(err, ErrClosed) {
		t.Fatalf("write: got %v, want %v", err, ErrClosed)
	}
	if err := w.Commit(); !errors.Is(err, ErrClosed) {
		t.Fatalf("commit: got %v, want %v", err, ErrClosed)
	}
	w.Abort()
	if g := get(c, req, t0); g.body != "ab" {
		t.Fatalf("abort after commit removed the object: %v", g.d)
	}
}
