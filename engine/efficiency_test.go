package engine

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"edgeproxy/engine/config"
)

// pageOrigin serves every path with a body naming it, fresh for ten
// minutes, and counts the prefetcher's requests apart.
func pageOrigin(t *testing.T) (*countingOrigin, *atomic.Int64) {
	var prefetched atomic.Int64
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.Header.Get(prefetchHeader) == "1" {
			prefetched.Add(1)
		}
		w.Header().Set("Cache-Control", "max-age=600")
		_, _ = io.WriteString(w, "body of "+r.URL.Path)
	})
	return o, &prefetched
}

// getFrom sends a GET through the proxy from the local address src (any of
// 127.0.0.0/8), so that the learner sees a distinct client, and checks that
// the body is pageOrigin's for the URL.
func getFrom(t *testing.T, s *Server, src, url string) *http.Response {
	t.Helper()
	resp, body := exchangeFrom(t, s, src, url)
	if want := "body of " + strings.TrimPrefix(url, "http://"+hostOfURL(url)); string(body) != want {
		t.Fatalf("GET %s: body %q, want %q", url, body, want)
	}
	return resp
}

// exchangeFrom sends a GET through the proxy from the local address src and
// returns the response with its body read.
func exchangeFrom(t *testing.T, s *Server, src, url string) (*http.Response, []byte) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, cacheRequest("GET", url)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// originCount is how many requests for path the origin has seen.
func originCount(o *countingOrigin, path string) int {
	n := 0
	for i := 1; i <= o.count(); i++ {
		if o.request(i).uri == path {
			n++
		}
	}
	return n
}

// After the learner has seen clients ask for B after A, a request for A
// fetches B into the cache, and the next client's request for B is a hit
// although no client asked for B since it was purged.
func TestPrefetchLearnedArcMakesAHit(t *testing.T) {
	o, prefetched := pageOrigin(t)
	logPath := filepath.Join(t.TempDir(), "access.log")
	s := startProxy(t, func(c *config.Config) {
		c.Prefetch.Enabled = true
		c.Prefetch.Proof = -1 // a fresh client asks for A: fetch whatever its record
		c.Prefetch.Window = 4
		c.Prefetch.Threshold = 0.5
		c.Prefetch.MinCount = 2
		c.Log.Path = logPath
	})
	a, b := o.URL+"/page.html", o.URL+"/style.css"
	for i := range 3 {
		src := fmt.Sprintf("127.0.0.%d", 10+i)
		getFrom(t, s, src, a)
		getFrom(t, s, src, b)
	}
	if !eventually(5*time.Second, func() bool { return s.pf.graph.Stats().Observed >= 6 }) {
		t.Fatalf("learner observed %d requests, want 6", s.pf.graph.Stats().Observed)
	}
	if set := s.pf.graph.PrefetchSet(a, nil); len(set) != 1 || set[0] != b {
		t.Fatalf("prefetch set of A is %q, want [%s]", set, b)
	}
	if resp, _ := cacheDo(t, s, "PURGE", b, ""); resp.StatusCode != 200 {
		t.Fatalf("PURGE B: %d", resp.StatusCode)
	}
	before := originCount(o, "/style.css")

	resp := getFrom(t, s, "127.0.0.20", a) // A is a hit; B is predicted
	wantHit(t, resp, "A")
	if !eventually(5*time.Second, func() bool { return prefetched.Load() == 1 && s.pf.budget.running.Load() == 0 }) {
		t.Fatalf("origin saw %d prefetch requests, want 1", prefetched.Load())
	}
	if got := originCount(o, "/style.css"); got != before+1 {
		t.Fatalf("origin saw B %d more times, want 1 (the prefetch)", got-before)
	}

	resp = getFrom(t, s, "127.0.0.21", b)
	wantHit(t, resp, "B after the prefetch")
	if got := originCount(o, "/style.css"); got != before+1 {
		t.Fatalf("B went to the origin again: %d requests", got-before)
	}
	// The loop counts the prefetch hit once the answer is written, so the
	// client can have it first.
	if !eventually(5*time.Second, func() bool { return s.pf.hits.Load() == 1 }) {
		t.Fatalf("prefetch hits %d, want 1", s.pf.hits.Load())
	}

	// The prefetch is in the access log with the hierarchy code PREFETCH,
	// and the learner never observed it.
	if !eventually(5*time.Second, func() bool {
		data, _ := os.ReadFile(logPath)
		return strings.Contains(string(data), "PREFETCH/")
	}) {
		data, _ := os.ReadFile(logPath)
		t.Fatalf("no PREFETCH line in the access log:\n%s", data)
	}
	data, _ := os.ReadFile(logPath)
	for line := range strings.Lines(string(data)) {
		if strings.Contains(line, "PREFETCH/") {
			if !strings.Contains(line, " - TCP_MISS/200 ") || !strings.Contains(line, b) {
				t.Errorf("prefetch line %q: want client -, TCP_MISS/200 and B's URL", line)
			}
		}
	}
	if n := s.pf.graph.Stats().Observed; n != 8 {
		t.Errorf("learner observed %d requests, want 8 (the prefetch is not one)", n)
	}
}

// The learner can start from an existing access log: after reading A → B
// sequences in a Squid log, the first request for A prefetches B.
func TestPrefetchSeededFromLog(t *testing.T) {
	o, prefetched := pageOrigin(t)
	a, b := o.URL+"/index.html", o.URL+"/app.js"
	var log strings.Builder
	ts := time.Now().Add(-time.Hour).Unix()
	for i := range 5 {
		client := fmt.Sprintf("10.0.0.%d", i+1)
		fmt.Fprintf(&log, "%d.000      5 %s TCP_MISS/200 900 GET %s - HIER_DIRECT/127.0.0.1 text/html\n", ts, client, a)
		fmt.Fprintf(&log, "%d.100      5 %s TCP_MISS/200 300 GET %s - HIER_DIRECT/127.0.0.1 text/javascript\n", ts, client, b)
		ts += 7
	}
	seed := filepath.Join(t.TempDir(), "seed.log")
	if err := os.WriteFile(seed, []byte(log.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startProxy(t, func(c *config.Config) {
		c.Prefetch.Enabled = true
		c.Prefetch.Proof = -1 // a fresh client asks for A: fetch whatever its record
		c.Prefetch.SeedLog = seed
	})
	if !eventually(5*time.Second, func() bool { return s.pf.seeded.Load() == 10 }) {
		t.Fatalf("seeded %d records, want 10 (error %v)", s.pf.seeded.Load(), s.pf.seedError.Load())
	}
	wantMiss(t, getFrom(t, s, "127.0.0.30", a), "A")
	if !eventually(5*time.Second, func() bool { return prefetched.Load() == 1 && s.pf.budget.running.Load() == 0 }) {
		t.Fatalf("origin saw %d prefetch requests, want 1", prefetched.Load())
	}
	wantHit(t, getFrom(t, s, "127.0.0.31", b), "B")
	wantOrigin(t, o, 2, "A by the client and B by the prefetcher")
}

// Prefetching respects its schedule: outside it nothing is fetched.
func TestPrefetchOutsideScheduleFetchesNothing(t *testing.T) {
	o, prefetched := pageOrigin(t)
	now := time.Now()
	// A one-hour window that starts two hours from now.
	from := now.Add(2 * time.Hour)
	sched := fmt.Sprintf("%02d:%02d-%02d:%02d", from.Hour(), from.Minute(), from.Add(time.Hour).Hour(), from.Minute())
	s := startProxy(t, func(c *config.Config) {
		c.Prefetch.Enabled = true
		c.Prefetch.Proof = -1 // a fresh client asks for A: fetch whatever its record
		c.Prefetch.Schedule = sched
		c.Prefetch.MinCount = 1
	})
	a, b := o.URL+"/a", o.URL+"/b"
	getFrom(t, s, "127.0.0.40", a)
	getFrom(t, s, "127.0.0.40", b)
	if resp, _ := cacheDo(t, s, "PURGE", b, ""); resp.StatusCode != 200 {
		t.Fatalf("PURGE B: %d", resp.StatusCode)
	}
	getFrom(t, s, "127.0.0.41", a)
	if !eventually(5*time.Second, func() bool { return s.pf.offHours.Load() >= 1 }) {
		t.Fatalf("no prefetch was held back by the schedule %q", sched)
	}
	if n := prefetched.Load(); n != 0 {
		t.Fatalf("origin saw %d prefetch requests outside the schedule", n)
	}
	wantMiss(t, getFrom(t, s, "127.0.0.42", b), "B")
}

// A popular object is revalidated shortly before it expires, so that its
// clients keep getting hits across its expiry; without refresh-ahead the
// first request after expiry waits for the origin.
func TestRefreshAheadKeepsPopularObjectAHit(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprintf("refresh_ahead %v", on), func(t *testing.T) {
			o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				w.Header().Set("Cache-Control", "max-age=2")
				w.Header().Set("ETag", `"v1"`)
				if r.Header.Get("If-None-Match") == `"v1"` {
					w.WriteHeader(http.StatusNotModified)
					return
				}
				_, _ = io.WriteString(w, "popular")
			})
			s := startProxy(t, func(c *config.Config) {
				c.RefreshAhead.Enabled = new(on)
				c.RefreshAhead.LeadPercent = 25
				c.RefreshAhead.MinRate = 2
			})
			url := o.URL + "/popular"
			forwarded := 0
			deadline := time.Now().Add(5 * time.Second) // past two expiries
			for i := 0; time.Now().Before(deadline); i++ {
				resp, body := cacheGet(t, s, url)
				if body != "popular" {
					t.Fatalf("request %d: body %q", i, body)
				}
				if i > 0 && strings.Contains(resp.Header.Get("Cache-Status"), "fwd=") {
					forwarded++
				}
				time.Sleep(40 * time.Millisecond)
			}
			conditional := 0
			for i := 1; i <= o.count(); i++ {
				if o.request(i).header.Get("If-None-Match") != "" {
					conditional++
				}
			}
			if on {
				if forwarded != 0 {
					t.Errorf("%d requests after the first waited for the origin; want every one a hit", forwarded)
				}
				if conditional < 2 || s.ahead.budget.started.Load() < 2 {
					t.Errorf("origin saw %d revalidations, %d refreshes started; want at least 2 (one per expiry)",
						conditional, s.ahead.budget.started.Load())
				}
			} else if forwarded == 0 {
				t.Errorf("without refresh-ahead no request waited for the origin: the test does not discriminate")
			}
		})
	}
}

// An unpopular object is not refreshed ahead: its rate is below min_rate.
func TestRefreshAheadIgnoresUnpopularObjects(t *testing.T) {
	o := startCountingOrigin(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Cache-Control", "max-age=4")
		_, _ = io.WriteString(w, "rare")
	})
	s := startProxy(t, func(c *config.Config) {
		c.RefreshAhead.LeadPercent = 50
		c.RefreshAhead.MinRate = 5
	})
	url := o.URL + "/rare"
	cacheGet(t, s, url)
	time.Sleep(2200 * time.Millisecond) // into the lead window (the last 2 s), Date being whole seconds
	resp, _ := cacheGet(t, s, url)
	wantHit(t, resp, "second request")
	time.Sleep(100 * time.Millisecond)
	if n := s.ahead.budget.started.Load(); n != 0 {
		t.Fatalf("%d refreshes of an object requested twice in a second; min_rate is 5", n)
	}
	wantOrigin(t, o, 1, "one fetch, no refresh")
}

// Admission through the proxy: once the large-object tier is full, a
// one-time 3 MiB download is passed on but not stored, and the popular
// objects it would have pushed out stay hits. With cache.admission off
// (plain LRU) the same download evicts them.
func TestAdmissionKeepsPopularObjectsThroughTheProxy(t *testing.T) {
	for _, admit := range []bool{true, false} {
		t.Run(fmt.Sprintf("admission %v", admit), func(t *testing.T) {
			o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				w.Header().Set("Cache-Control", "max-age=600")
				n := 1 << 20
				if r.URL.Path == "/download.iso" {
					n = 3 << 20
				}
				w.Header().Set("Content-Length", strconv.Itoa(n))
				_, _ = w.Write(patternBody(n, 7))
			})
			s := startProxy(t, func(c *config.Config) {
				c.Cache.Memory = config.MiB
				c.Cache.LargeMemory = 4 * config.MiB
				c.Cache.MaxObject = 4 * config.MiB
				c.Cache.Admission = new(admit)
				// TinyLFU admission votes on tier L under the LRU
				// policy; the edge policy admits by its own test
				// (cache/large_policy_test.go).
				c.Cache.Policy = config.CachePolicyLRU
			})
			popular := []string{o.URL + "/a.js", o.URL + "/b.js", o.URL + "/c.js"}
			for range 4 {
				for _, u := range popular {
					cacheGet(t, s, u)
				}
			}
			for _, u := range popular {
				wantHit(t, mustGet(t, s, u), u+" before the download")
			}
			resp := mustGet(t, s, o.URL+"/download.iso")
			stored := strings.Contains(resp.Header.Get("Cache-Status"), "stored")
			evicted := 0
			for _, u := range popular {
				if !isHit(mustGet(t, s, u)) {
					evicted++
				}
			}
			if admit {
				if stored || evicted > 0 {
					t.Errorf("with admission: download stored %v, %d popular objects evicted; want neither", stored, evicted)
				}
				if st := s.cache.Admission().Stats(); st.Rejected < 1 {
					t.Errorf("admission stats %+v: want the download rejected", st)
				}
			} else if evicted == 0 {
				t.Errorf("with plain LRU the download evicted nothing: the test does not discriminate")
			}
		})
	}
}

// mustGet is cacheGet returning only the response.
func mustGet(t *testing.T, s *Server, url string) *http.Response {
	t.Helper()
	resp, _ := cacheGet(t, s, url)
	return resp
}

// A predicted object over prefetch.max_object is not read (the proxy closes
// the origin connection after the head), nothing is stored, and the next
// prediction of it is skipped rather than fetched again.
func TestPrefetchSkipsObjectsOverItsCap(t *testing.T) {
	var prefetched atomic.Int64
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.Header.Get(prefetchHeader) == "1" {
			prefetched.Add(1)
		}
		w.Header().Set("Cache-Control", "max-age=600")
		n := 100
		if r.URL.Path == "/big.iso" {
			n = 3 << 20
		}
		w.Header().Set("Content-Length", strconv.Itoa(n))
		_, _ = w.Write(patternBody(n, 3))
	})
	s := startProxy(t, func(c *config.Config) {
		c.Prefetch.Enabled = true
		c.Prefetch.Proof = -1 // a fresh client asks for A: fetch whatever its record
		c.Prefetch.MaxObject = config.MiB
	})
	a, big := o.URL+"/page", o.URL+"/big.iso"
	for i := range 2 {
		src := fmt.Sprintf("127.0.0.%d", 50+i)
		exchangeFrom(t, s, src, a)
		exchangeFrom(t, s, src, big)
	}
	if resp, _ := cacheDo(t, s, "PURGE", big, ""); resp.StatusCode != 200 {
		t.Fatalf("PURGE: %d", resp.StatusCode)
	}
	exchangeFrom(t, s, "127.0.0.60", a)
	if !eventually(5*time.Second, func() bool { return prefetched.Load() == 1 && s.pf.budget.running.Load() == 0 }) {
		t.Fatalf("origin saw %d prefetches of the big object, want 1", prefetched.Load())
	}
	if got := s.pf.budget.bytesDone.Load(); got > 1<<20 {
		t.Errorf("the prefetch read %d body bytes of a 3 MiB object over a 1 MiB cap", got)
	}
	wantMiss(t, mustGet(t, s, big), "big object after its prefetch")
	if resp, _ := cacheDo(t, s, "PURGE", big, ""); resp.StatusCode != 200 {
		t.Fatalf("PURGE: %d", resp.StatusCode)
	}
	exchangeFrom(t, s, "127.0.0.61", a)
	if !eventually(5*time.Second, func() bool { return s.pf.skipUnstorable.Load() == 1 }) {
		t.Fatalf("second prediction: %d skipped as unstorable, want 1", s.pf.skipUnstorable.Load())
	}
	if n := prefetched.Load(); n != 1 {
		t.Fatalf("the big object was prefetched %d times, want once", n)
	}
}
