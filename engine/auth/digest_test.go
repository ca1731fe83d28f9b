package auth

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRFC7616Vectors checks the example of RFC 7616 §3.9.1 for both
// algorithms.
func TestRFC7616Vectors(t *testing.T) {
	const (
		user, realm, password = "Mufasa", "http-auth@example.org", "Circle of Life"
		nonce                 = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
		cnonce                = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
	)
	tests := []struct {
		alg  algorithm
		want string
	}{
		{algMD5, "8ca523f5e9506fed4657c9700eebdbec"},
		{algSHA256, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	}
	for _, tt := range tests {
		t.Run(tt.alg.name(), func(t *testing.T) {
			ha1 := hexHash(tt.alg.name(), user+":"+realm+":"+password)
			sum := digestResponse(tt.alg, []byte(ha1), []byte("GET"), []byte("/dir/index.html"),
				[]byte(nonce), []byte("00000001"), []byte(cnonce), []byte("auth"))
			if got := hex.EncodeToString(sum[:tt.alg.size()]); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// hexHash is the client side's H(), written independently of the package.
func hexHash(alg, s string) string {
	if alg == "SHA-256" {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// digestClient answers challenges as a browser or curl would.
type digestClient struct {
	alg, user, password, realm string
	nonce, opaque              string
}

var challengeRE = regexp.MustCompile(`Digest realm="([^"]*)", qop="auth", algorithm=([A-Z0-9-]+), nonce="([^"]+)", opaque="([^"]+)"`)

// challenge takes the nonce of the challenge for c.alg from a's challenges.
func (c *digestClient) challenge(t testing.TB, a *Authenticator) {
	t.Helper()
	for _, m := range challengeRE.FindAllStringSubmatch(string(a.Challenges(nil, false)), -1) {
		if m[2] == c.alg {
			c.realm, c.nonce, c.opaque = m[1], m[3], m[4]
			return
		}
	}
	t.Fatalf("no %s challenge in %q", c.alg, a.Challenges(nil, false))
}

func (c *digestClient) header(method, uri string, nc int) string {
	const cnonce = "0a4f113b"
	ha1 := hexHash(c.alg, c.user+":"+c.realm+":"+c.password)
	ha2 := hexHash(c.alg, method+":"+uri)
	ncs := fmt.Sprintf("%08x", nc)
	resp := hexHash(c.alg, ha1+":"+c.nonce+":"+ncs+":"+cnonce+":auth:"+ha2)
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=%s, response="%s", qop=auth, nc=%s, cnonce="%s", opaque="%s"`,
		c.user, c.realm, c.nonce, uri, c.alg, resp, ncs, cnonce, c.opaque)
}

func newDigestAuth(t *testing.T, file string) (*Authenticator, *time.Time) {
	t.Helper()
	a, err := New(Config{DigestFile: file})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	a.now = func() time.Time { return now }
	return a, &now
}

func TestDigestCheck(t *testing.T) {
	const uri = "http://www.example.com/a?b=c"
	type step struct {
		method, uri string
		nc          int
		advance     time.Duration
		edit        func(string) string
		want        Result
	}
	tests := []struct {
		name   string
		file   string
		client digestClient
		steps  []step
	}{
		{"md5 from htdigest", "testdata/htdigest", digestClient{alg: "MD5", user: "erin", password: "secret one"},
			[]step{{"GET", uri, 1, 0, nil, Authenticated}, {"GET", uri, 2, 0, nil, Authenticated}}},
		{"sha-256", "testdata/htdigest-sha256", digestClient{alg: "SHA-256", user: "gina", password: "g1na pass"},
			[]step{{"CONNECT", "example.com:443", 1, 0, nil, Authenticated}}},
		{"md5 where sha-256 is offered too", "testdata/htdigest-sha256", digestClient{alg: "MD5", user: "erin", password: "secret one"},
			[]step{{"GET", uri, 1, 0, nil, Authenticated}}},
		{"user without an md5 HA1", "testdata/htdigest-sha256", digestClient{alg: "MD5", user: "gina", password: "g1na pass"},
			[]step{{"GET", uri, 1, 0, nil, Denied}}},
		{"wrong password", "testdata/htdigest", digestClient{alg: "MD5", user: "erin", password: "secret two"},
			[]step{{"GET", uri, 1, 0, nil, Denied}}},
		{"user of another realm", "testdata/htdigest", digestClient{alg: "MD5", user: "frank", password: "frank"},
			[]step{{"GET", uri, 1, 0, nil, Denied}}},
		{"replayed nc", "testdata/htdigest", digestClient{alg: "MD5", user: "erin", password: "secret one"},
			[]step{{"GET", uri, 1, 0, nil, Authenticated}, {"GET", uri, 1, 0, nil, Denied}}},
		{"out of order within the window", "testdata/htdigest", digestClient{alg: "MD5", user: "erin", password: "secret one"},
			[]step{{"GET", uri, 3, 0, nil, Authenticated}, {"GET", uri, 1, 0, nil, Authenticated}, {"GET", uri, 2, 0, nil, Authenticated}, {"GET", uri, 2, 0, nil, Denied}}},
		{"behind the window", "testdata/htdigest", digestClient{alg: "MD5", user: "erin", password: "secret one"},
			[]step{{"GET", uri, 100, 0, nil, Authenticated}, {"GET", uri, 36, 0, nil, Denied}, {"GET", uri, 37, 0, nil, Authenticated}}},
		{"expired nonce is stale", "testdata/htdigest", digestClient{alg: "MD5", user: "erin", password: "secret one"},
			[]step{{"GET", uri, 1, 0, nil, Authenticated}, {"GET", uri, 2, DefaultNonceTTL + time.Second, nil, Stale}}},
		{"expired nonce, wrong password", "testdata/htdigest", digestClient{alg: "MD5", user: "erin", password: "secret two"},
			[]step{{"GET", uri, 1, DefaultNonceTTL + time.Second, nil, Denied}}},
		{"foreign nonce is stale", "testdata/htdigest", digestClient{alg: "MD5", user: "erin", password: "secret one", nonce: strings.Repeat("A", nonceLen)},
			[]step{{"GET", uri, 1, 0, nil, Stale}}},
		{"zero nc", "testdata/htdigest", digestClient{alg: "MD5", user: "erin", password: "secret one"},
			[]step{{"GET", uri, 0, 0, nil, Denied}}},
		{"sess algorithm", "testdata/htdigest", digestClient{alg: "MD5", user: "erin", password: "secret one"},
			[]step{{"GET", uri, 1, 0, func(h string) string { return strings.Replace(h, "algorithm=MD5", "algorithm=MD5-sess", 1) }, Denied}}},
		{"userhash", "testdata/htdigest", digestClient{alg: "MD5", user: "erin", password: "secret one"},
			[]step{{"GET", uri, 1, 0, func(h string) string { return h + ", userhash=true" }, Denied}}},
		{"wrong opaque", "testdata/htdigest", digestClient{alg: "MD5", user: "erin", password: "secret one"},
			[]step{{"GET", uri, 1, 0, func(h string) string { return strings.Replace(h, `opaque="`, `opaque="x`, 1) }, Denied}}},
		{"no qop", "testdata/htdigest", digestClient{alg: "MD5", user: "erin", password: "secret one"},
			[]step{{"GET", uri, 1, 0, func(h string) string { return strings.Replace(h, "qop=auth, ", "", 1) }, Denied}}},
		{"repeated parameter", "testdata/htdigest", digestClient{alg: "MD5", user: "erin", password: "secret one"},
			[]step{{"GET", uri, 1, 0, func(h string) string { return h + `, username="erin"` }, Denied}}},
		{"unknown parameter and odd spacing", "testdata/htdigest", digestClient{alg: "MD5", user: "erin", password: "secret one"},
			[]step{{"GET", uri, 1, 0, func(h string) string { return strings.ReplaceAll(h, ", ", " ,\t") + `, charset=UTF-8,` }, Authenticated}}},
		{"lower-case scheme and algorithm", "testdata/htdigest", digestClient{alg: "MD5", user: "erin", password: "secret one"},
			[]step{{"GET", uri, 1, 0, func(h string) string {
				return strings.Replace(strings.Replace(h, "Digest", "digest", 1), "=MD5", "=md5", 1)
			}, Authenticated}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, now := newDigestAuth(t, tt.file)
			c := tt.client
			preset := c.nonce
			c.challenge(t, a)
			if preset != "" {
				c.nonce = preset
			}
			for i, s := range tt.steps {
				*now = now.Add(s.advance)
				h := c.header(s.method, s.uri, s.nc)
				if s.edit != nil {
					h = s.edit(h)
				}
				user, res := a.QuickCheck([]byte(s.method), []byte(s.uri), []byte(h))
				if res != s.want {
					t.Fatalf("step %d: got %v, want %v", i, res, s.want)
				}
				if wantUser := map[bool]string{true: c.user}[res == Authenticated]; user != wantUser {
					t.Errorf("step %d: got user %q, want %q", i, user, wantUser)
				}
			}
		})
	}
}

// TestDigestBindsMethod checks that a response computed for one method is
// refused for another (HA2 covers the method).
func TestDigestBindsMethod(t *testing.T) {
	a, _ := newDigestAuth(t, "testdata/htdigest")
	c := digestClient{alg: "MD5", user: "erin", password: "secret one"}
	c.challenge(t, a)
	const uri = "http://x.test/"
	if _, res := a.QuickCheck([]byte("POST"), []byte(uri), []byte(c.header("GET", uri, 1))); res != Denied {
		t.Errorf("got %v, want %v", res, Denied)
	}
}

// TestDigestBindsURI checks RFC 7616 §3.4.6: a response that is correct for
// its own uri parameter is refused when that is not the request-target.
func TestDigestBindsURI(t *testing.T) {
	a, _ := newDigestAuth(t, "testdata/htdigest")
	c := digestClient{alg: "MD5", user: "erin", password: "secret one"}
	c.challenge(t, a)
	h := []byte(c.header("GET", "/a?b=c", 1))
	if _, res := a.QuickCheck([]byte("GET"), []byte("http://x.test/z?b=c"), h); res != Denied {
		t.Errorf("other target: got %v, want %v", res, Denied)
	}
	if _, res := a.QuickCheck([]byte("GET"), []byte("/a?b=c"), h); res != Authenticated {
		t.Errorf("same target: got %v, want %v", res, Authenticated)
	}
}

func TestSameTarget(t *testing.T) {
	tests := []struct {
		param, target string
		want          bool
	}{
		{"http://x.test/a?b", "http://x.test/a?b", true},
		{"/a?b", "http://x.test/a?b", true},
		{"/a?b", "http://x.test:8080/a?b", true},
		{"/", "http://x.test", true},
		{"/?q", "http://x.test?q", true},
		{"x.test:443", "x.test:443", true},
		{"/a", "http://x.test/a?b", false},
		{"/a?b", "http://x.test/other/a?b", false},
		{"a?b", "http://x.test/a?b", false},
		{"", "http://x.test", false},
		{"/a", "/b", false},
		{"/", "x.test:443", false},
	}
	for _, tt := range tests {
		if got := sameTarget([]byte(tt.param), []byte(tt.target)); got != tt.want {
			t.Errorf("sameTarget(%q, %q): got %v, want %v", tt.param, tt.target, got, tt.want)
		}
	}
}

func TestParseDigestEscapes(t *testing.T) {
	p, ok := parseDigest([]byte(`username="a\"b\\c", realm=r, nonce=""`))
	if !ok {
		t.Fatal("parse failed")
	}
	if string(p.username) != `a"b\c` || string(p.realm) != "r" || p.nonce == nil || len(p.nonce) != 0 {
		t.Errorf("got username %q realm %q nonce %q, want %q %q %q", p.username, p.realm, p.nonce, `a"b\c`, "r", "")
	}
	for _, bad := range []string{`username="unterminated`, `=x`, `username`, `username="x" realm`} {
		if _, ok := parseDigest([]byte(bad)); ok {
			t.Errorf("parseDigest(%q): got ok, want failure", bad)
		}
	}
}

// TestReplayWindowBounded fills the replay map past two generations and
// checks that it stays bounded and that an evicted nonce is answered Stale,
// not accepted as unused.
func TestReplayWindowBounded(t *testing.T) {
	a, now := newDigestAuth(t, "testdata/htdigest")
	const uri = "http://x.test/"
	first := digestClient{alg: "MD5", user: "erin", password: "secret one"}
	first.challenge(t, a)
	if _, res := a.QuickCheck([]byte("GET"), []byte(uri), []byte(first.header("GET", uri, 1))); res != Authenticated {
		t.Fatalf("first use: got %v, want %v", res, Authenticated)
	}
	r := &a.nonces.replay
	var id nonceID
	for i := range 2*maxTracked + 10 {
		*now = now.Add(time.Microsecond)
		id[0], id[1], id[2] = byte(i), byte(i>>8), byte(i>>16)
		id[15] = 1
		r.use(id, now.UnixNano(), 1)
	}
	if n := len(r.cur) + len(r.prev); n > 2*maxTracked {
		t.Errorf("got %d tracked nonces, want at most %d", n, 2*maxTracked)
	}
	if _, res := a.QuickCheck([]byte("GET"), []byte(uri), []byte(first.header("GET", uri, 2))); res != Stale {
		t.Errorf("evicted nonce: got %v, want %v", res, Stale)
	}
	fresh := digestClient{alg: "MD5", user: "erin", password: "secret one"}
	fresh.challenge(t, a)
	if _, res := a.QuickCheck([]byte("GET"), []byte(uri), []byte(fresh.header("GET", uri, 1))); res != Authenticated {
		t.Errorf("new nonce after eviction: got %v, want %v", res, Authenticated)
	}
}
