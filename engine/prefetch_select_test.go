package engine

import (
	"fmt"
	"testing"
	"time"

	"edgeproxy/engine/config"
)

// learned waits until the learner has handled every request sent so far:
// it sends one more, from a client and for a URL nothing predicts, and
// waits until the learner has observed it. The learner handles records in
// order, and starts a record's prefetches before it takes the next.
func learned(t *testing.T, s *Server, o *countingOrigin, n *int) {
	t.Helper()
	*n++
	getFrom(t, s, "127.0.0.99", fmt.Sprintf("%s/barrier-%d", o.URL, *n))
	want := uint64(*n)
	if !eventually(5*time.Second, func() bool { return s.pf.graph.Stats().Observed >= want }) {
		t.Fatalf("learner observed %d requests, want %d", s.pf.graph.Stats().Observed, want)
	}
}

// Issue 17: at the defaults (threshold 0.3, span 5s, proof 1,
// client_precision 0.2), a page's dependencies that browsers asked for
// are prefetched for a browser, once it has followed one prediction; a
// dependency few browsers asked for (p below the threshold) is not, and a
// crawler that fetches the page alone gets nothing prefetched.
func TestPrefetchSelectsWhatPays(t *testing.T) {
	o, prefetched := pageOrigin(t)
	s := startProxy(t, func(c *config.Config) {
		c.Prefetch.Enabled = true
	})
	page, css, photo, rare := o.URL+"/post/", o.URL+"/style.css", o.URL+"/photo.jpg", o.URL+"/rare.png"
	sent := 0
	get := func(src, url string) {
		t.Helper()
		getFrom(t, s, src, url)
		sent++
	}
	// Six browsers read the post; two of them also fetch the rare image:
	// by the last browser's visit p(post → rare) = 2/8, below 0.3.
	for i := range 6 {
		src := fmt.Sprintf("127.0.0.%d", 30+i)
		get(src, page)
		get(src, css)
		get(src, photo)
		if i < 2 {
			get(src, rare)
		}
	}
	learned(t, s, o, &sent)
	for _, u := range []string{css, photo, rare} {
		if resp, _ := cacheDo(t, s, "PURGE", u, ""); resp.StatusCode != 200 {
			t.Fatalf("PURGE %s: %d", u, resp.StatusCode)
		}
	}
	issued := s.pf.issued.Load()

	// A crawler asks for the page alone: its predictions wait for it to
	// follow one, which it never does.
	wantHit(t, getFrom(t, s, "127.0.0.41", page), "the page, for the crawler")
	sent++
	learned(t, s, o, &sent)
	if got := s.pf.issued.Load() - issued; got != 0 {
		t.Fatalf("the crawler's page started %d prefetches, want 0", got)
	}

	// A browser asks for the page, then the stylesheet (a miss it fetches
	// itself): having followed a prediction, it gets the photo prefetched,
	// and the photo is a hit; the rare image is not fetched.
	browser := "127.0.0.42"
	get(browser, page)
	learned(t, s, o, &sent)
	if got := s.pf.issued.Load() - issued; got != 0 {
		t.Fatalf("a new client's page started %d prefetches before it followed one, want 0", got)
	}
	wantMiss(t, getFrom(t, s, browser, css), "the stylesheet, fetched by the browser")
	sent++
	if !eventually(5*time.Second, func() bool { return prefetched.Load() == 1 && s.pf.budget.running.Load() == 0 }) {
		t.Fatalf("origin saw %d prefetches, want 1 (the photo)", prefetched.Load())
	}
	wantHit(t, getFrom(t, s, browser, photo), "the photo after its prefetch")
	sent++
	learned(t, s, o, &sent)
	if n := originCount(o, "/rare.png"); n != 1 {
		t.Errorf("origin saw the rare image %d times, want 1 (its first client request)", n)
	}
	if n := prefetched.Load(); n != 1 {
		t.Errorf("origin saw %d prefetches, want 1", n)
	}
}
