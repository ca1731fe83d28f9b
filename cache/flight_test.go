package cache

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
)

func TestCollapsedForwardingOneLeader(t *testing.T) {
	c := smallCache()
	const n = 100
	body := randomBody(3, 600<<10)
	key := AppendKey(nil, newReq("GET", "http://h/hot"))
	var leaders, fetched, served atomic.Int32
	var joined sync.WaitGroup
	joined.Add(n)
	var done sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		done.Add(1)
		go func() {
			defer done.Done()
			req := newReq("GET", "http://h/hot")
			f, leader := c.Join(key)
			joined.Done()
			if leader {
				leaders.Add(1)
				joined.Wait() // every request has joined before the "origin" answers
				fetched.Add(1)
				w := c.NewWriter(key, req, resp{headers: []string{"Cache-Control", "max-age=60"}, body: string(body)}.meta())
				f.Publish(w)
				for off := 0; off < len(body); off += 10000 {
					if _, err := w.Write(body[off:min(off+10000, len(body))]); err != nil {
						errs <- err
						return
					}
				}
				if err := w.Commit(); err != nil {
					errs <- err
				}
				served.Add(1)
				return
			}
			r, err := f.Follow(req)
			if err != nil {
				errs <- err
				return
			}
			got, err := io.ReadAll(r)
			r.Close()
			if err != nil || !bytes.Equal(got, body) {
				errs <- errors.New("follower got a different body")
				return
			}
			served.Add(1)
		}()
	}
	done.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if leaders.Load() != 1 || fetched.Load() != 1 || served.Load() != n {
		t.Fatalf("leaders %d, origin fetches %d, served %d; want 1, 1, %d", leaders.Load(), fetched.Load(), served.Load(), n)
	}
	if s := c.Stats(); s.Inflight != 0 || s.Stores != 1 {
		t.Fatalf("stats %+v: want no flight left and one store", s)
	}
	if g := get(c, newReq("GET", "http://h/hot"), t0); g.d != Fresh || g.body != string(body) {
		t.Fatalf("after the fill: got %v", g.d)
	}
}

func TestFlightCancelAndNotShared(t *testing.T) {
	c := smallCache()
	key := AppendKey(nil, newReq("GET", "http://h/c"))
	f, leader := c.Join(key)
	g, leader2 := c.Join(key)
	if !leader || leader2 || f != g {
		t.Fatal("second Join must follow the first")
	}
	f.Cancel()
	if _, err := g.Follow(newReq("GET", "http://h/c")); !errors.Is(err, ErrNotShared) {
		t.Fatalf("got %v, want %v", err, ErrNotShared)
	}
	if _, leader := c.Join(key); !leader {
		t.Fatal("after Cancel the next Join must lead")
	}

	key = AppendKey(nil, newReq("GET", "http://h/private"))
	f, _ = c.Join(key)
	req := newReq("GET", "http://h/private")
	f.Publish(c.NewWriter(key, req, resp{headers: []string{"Cache-Control", "private"}}.meta()))
	if _, err := f.Follow(req); !errors.Is(err, ErrNotShared) {
		t.Fatalf("private response: got %v, want %v", err, ErrNotShared)
	}
}

func TestFlightVaryMismatch(t *testing.T) {
	c := smallCache()
	key := AppendKey(nil, newReq("GET", "http://h/v"))
	f, _ := c.Join(key)
	leaderReq := newReq("GET", "http://h/v", "Accept-Encoding", "gzip")
	w := c.NewWriter(key, leaderReq, resp{headers: []string{"Cache-Control", "max-age=60", "Vary", "Accept-Encoding"}, body: "z"}.meta())
	f.Publish(w)
	if _, err := f.Follow(newReq("GET", "http://h/v", "Accept-Encoding", "br")); !errors.Is(err, ErrVaryMismatch) {
		t.Fatalf("got %v, want %v", err, ErrVaryMismatch)
	}
	r, err := f.Follow(newReq("GET", "http://h/v", "Accept-Encoding", "gzip"))
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("z"))
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(r); err != nil || string(b) != "z" {
		t.Fatalf("got %q %v", b, err)
	}
	if c.Stats().Inflight != 0 {
		t.Fatal("flight left in the registry after commit")
	}
}

func TestFlightPublishAfterCommit(t *testing.T) {
	c := smallCache()
	key := AppendKey(nil, newReq("GET", "http://h/late"))
	f, _ := c.Join(key)
	req := newReq("GET", "http://h/late")
	w := c.NewWriter(key, req, resp{headers: []string{"Cache-Control", "max-age=60"}, body: "ok"}.meta())
	w.Write([]byte("ok"))
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	f.Publish(w)
	if c.Stats().Inflight != 0 {
		t.Fatal("flight published after commit stayed registered")
	}
	r, err := f.Follow(req)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(r); err != nil || string(b) != "ok" {
		t.Fatalf("got %q %v", b, err)
	}
}
