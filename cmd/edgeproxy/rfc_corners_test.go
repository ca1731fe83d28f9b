package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Issue 11: the RFC corners the conformance suite found, through the real
// binary with a Go client and a real origin on 127.0.0.1.

// rfcOrigin counts the requests for each path and answers every one with a
// cacheable body naming the count; its handler may add fields.
type rfcOrigin struct {
	addr string
	mu   sync.Mutex
	seen map[string]int
}

func startRFCOrigin(t *testing.T, fields func(w http.ResponseWriter, r *http.Request)) *rfcOrigin {
	o := &rfcOrigin{seen: map[string]int{}}
	o.addr = startOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.seen[r.URL.Path]++
		n := o.seen[r.URL.Path]
		o.mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=3600")
		fields(w, r)
		if r.Method == http.MethodGet {
			io.WriteString(w, strings.Repeat("x", 90)+"0123456789"[n%10:n%10+1])
		}
	}))
	return o
}

func (o *rfcOrigin) count(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seen[path]
}

// proxied sends one request through the proxy and returns the response and
// its body.
func proxied(t *testing.T, p *proxyProc, method, target string, fields ...string) (*http.Response, string) {
	t.Helper()
	proxy, _ := url.Parse("http://" + p.addr)
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}}
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(fields); i += 2 {
		req.Header.Set(fields[i], fields[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestRFCCornersThroughBinary(t *testing.T) {
	days := make([]time.Time, 7) // Last-Modified on each weekday, whatever today is
	for i := range days {
		days[i] = time.Now().UTC().Add(-time.Duration(i+1) * 24 * time.Hour).Truncate(time.Second)
	}
	o := startRFCOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/age":
			w.Header().Set("Age", "7200, 0") // older than its max-age: stale
		case strings.HasPrefix(r.URL.Path, "/day/"):
			i := int(r.URL.Path[len("/day/")] - '0')
			w.Header().Set("Last-Modified", days[i].Format(http.TimeFormat))
		}
	})
	p := startProc(t, "")
	base := "http://" + o.addr

	// RFC 9111 §4.4: a success for a method not known to be safe
	// invalidates the target URI.
	t.Run("unknown method invalidates", func(t *testing.T) {
		for _, m := range []string{"M-SEARCH", "PROPPATCH"} {
			u := base + "/inval-" + strings.ToLower(m)
			proxied(t, p, "GET", u)
			if resp, _ := proxied(t, p, "GET", u); !strings.HasPrefix(resp.Header.Get("X-Cache"), "HIT") {
				t.Fatalf("%s: second GET not a hit: %q", m, resp.Header.Get("X-Cache"))
			}
			if resp, _ := proxied(t, p, m, u); resp.StatusCode != 200 {
				t.Fatalf("%s: got %d", m, resp.StatusCode)
			}
			resp, _ := proxied(t, p, "GET", u)
			if strings.HasPrefix(resp.Header.Get("X-Cache"), "HIT") {
				t.Errorf("%s did not invalidate: GET after it got %q", m, resp.Header.Get("X-Cache"))
			}
		}
	})

	// RFC 9111 §5.1: a list-valued Age counts with its first member.
	t.Run("Age list uses its first member", func(t *testing.T) {
		proxied(t, p, "GET", base+"/age")
		proxied(t, p, "GET", base+"/age")
		if got := o.count("/age"); got != 2 {
			t.Errorf("origin requests for an object stored 7200 s old with max-age=3600: got %d, want 2", got)
		}
	})

	// RFC 9110 §13.1.5: If-Range with the stored Last-Modified gets 206 on
	// every weekday, "Wed, …" included.
	t.Run("If-Range date on every weekday", func(t *testing.T) {
		for i, d := range days {
			u := base + "/day/" + string(rune('0'+i))
			proxied(t, p, "GET", u)
			resp, body := proxied(t, p, "GET", u, "Range", "bytes=0-9", "If-Range", d.Format(http.TimeFormat))
			if resp.StatusCode != 206 || len(body) != 10 {
				t.Errorf("%s: got %d with %d bytes, want 206 with 10", d.Weekday(), resp.StatusCode, len(body))
			}
		}
	})

	// RFC 9211 §2.4: a reload of a fresh stored response is fwd=request.
	t.Run("reload is fwd=request", func(t *testing.T) {
		u := base + "/reload"
		proxied(t, p, "GET", u)
		resp, _ := proxied(t, p, "GET", u, "Cache-Control", "max-age=0")
		if cs := resp.Header.Get("Cache-Status"); !strings.Contains(cs, "fwd=request") {
			t.Errorf("Cache-Status: got %q, want fwd=request", cs)
		}
	})
}
