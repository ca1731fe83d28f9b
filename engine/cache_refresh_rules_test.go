package engine

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"edgeproxy/engine/config"
)

// debianPreset is the README's preset for Debian and Ubuntu archives.
func debianPreset() []config.RefreshRule {
	return []config.RefreshRule{
		{Pattern: `\.(deb|udeb)$`, Min: config.Duration(720 * time.Hour), Percent: 100, Max: config.Duration(8760 * time.Hour), Immutable: true},
		{Pattern: `/(Release|InRelease|Release\.gpg|Packages|Sources)(\.(gz|bz2|xz|lz4|zst))?$`, Max: 0},
	}
}

// Issue 17: an apt mirror sends .deb files with no validators and no
// expiry; with the Debian preset the second fetch (even with apt's reload
// header) is a hit, while Release is revalidated every time.
func TestCacheRefreshRulesDebianArchive(t *testing.T) {
	deb := patternBody(200<<10, 3)
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		body := deb
		if r.URL.Path == "/debian/dists/stable/Release" {
			body = []byte("Origin: Debian\n")
			w.Header().Set("Last-Modified", "Sat, 01 Jan 2022 00:00:00 GMT")
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	debURL := o.URL + "/debian/pool/main/h/hello/hello_2.10-3_amd64.deb"
	release := o.URL + "/debian/dists/stable/Release"
	for _, tc := range []struct {
		name  string
		rules []config.RefreshRule
		hit   bool
	}{
		{"without rules", nil, false},
		{"debian preset", debianPreset(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startProxy(t, func(c *config.Config) { c.Cache.RefreshRules = tc.rules })
			before := o.count()
			if resp, body := cacheGet(t, s, debURL); resp.StatusCode != 200 || body != string(deb) {
				t.Fatalf("first fetch: got %d with %d bytes", resp.StatusCode, len(body))
			}
			eventually(5*time.Second, func() bool { return s.cache.Stats().Stores >= 1 })
			for _, fields := range [][]string{nil, {"Cache-Control: no-cache", "Pragma: no-cache"}} {
				resp, body := cacheGet(t, s, debURL, fields...)
				if body != string(deb) {
					t.Fatalf("second fetch %v: got %d bytes", fields, len(body))
				}
				if isHit(resp) != tc.hit {
					t.Errorf("second fetch %v: X-Cache %q, want a hit: %v", fields, resp.Header.Get("X-Cache"), tc.hit)
				}
			}
			wantFetches := 1
			if !tc.hit {
				wantFetches = 3
			}
			if got := o.count() - before; got != wantFetches {
				t.Errorf("origin served the .deb %d times, want %d", got, wantFetches)
			}
		})
	}
	t.Run("release revalidates", func(t *testing.T) {
		s := startProxy(t, func(c *config.Config) { c.Cache.RefreshRules = debianPreset() })
		cacheGet(t, s, release)
		eventually(5*time.Second, func() bool { return s.cache.Stats().Stores >= 1 })
		before := o.count()
		resp, _ := cacheGet(t, s, release)
		if o.count() == before {
			t.Errorf("second fetch of Release did not go to the origin (X-Cache %q): a rule with max 0 must revalidate", resp.Header.Get("X-Cache"))
		}
		if last := o.request(o.count()); last.header.Get("If-Modified-Since") == "" {
			t.Errorf("revalidation of Release: got fields %v, want If-Modified-Since", last.header)
		}
	})
}
