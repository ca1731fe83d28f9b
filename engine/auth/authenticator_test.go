package auth

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func basicHeader(user, password string) []byte {
	return []byte("Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password)))
}

func TestChallenges(t *testing.T) {
	nonce := regexp.MustCompile(`nonce="[A-Za-z0-9_-]{43}"`)
	opaque := regexp.MustCompile(`opaque="[A-Za-z0-9_-]{16}"`)
	tests := []struct {
		name  string
		cfg   Config
		stale bool
		want  string
	}{
		{"basic only", Config{BasicFile: "testdata/htpasswd"}, false,
			"Proxy-Authenticate: Basic realm=\"edgeproxy\", charset=\"UTF-8\"\r\n"},
		{"md5 digest and basic", Config{Realm: "edgeproxy", BasicFile: "testdata/htpasswd", DigestFile: "testdata/htdigest"}, false,
			"Proxy-Authenticate: Digest realm=\"edgeproxy\", qop=\"auth\", algorithm=MD5, nonce=N, opaque=O\r\n" +
				"Proxy-Authenticate: Basic realm=\"edgeproxy\", charset=\"UTF-8\"\r\n"},
		{"sha-256 first when every user has it", Config{DigestFile: "testdata/htdigest-sha256"}, true,
			"Proxy-Authenticate: Digest realm=\"edgeproxy\", qop=\"auth\", algorithm=SHA-256, nonce=N, opaque=O, stale=true\r\n" +
				"Proxy-Authenticate: Digest realm=\"edgeproxy\", qop=\"auth\", algorithm=MD5, nonce=N, opaque=O, stale=true\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			got := string(a.Challenges([]byte("X: y\r\n"), tt.stale))
			got = nonce.ReplaceAllString(opaque.ReplaceAllString(got, "opaque=O"), "nonce=N")
			if want := "X: y\r\n" + tt.want; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestBasicCheck(t *testing.T) {
	a, err := New(Config{BasicFile: "testdata/htpasswd", CacheTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	a.now = func() time.Time { return now }
	const m, uri = "GET", "http://x.test/"

	tests := []struct {
		name      string
		header    []byte
		wantQuick Result
		wantSlow  bool
		wantUser  string
	}{
		{"bcrypt", basicHeader("alice", "wonder land"), NeedSlowPath, true, "alice"},
		{"apr1", basicHeader("bob", "b0b:pass"), NeedSlowPath, true, "bob"},
		{"sha on the quick path", basicHeader("carol", "Ca.rol!"), Authenticated, true, "carol"},
		{"sha wrong password", basicHeader("carol", "Ca.rol"), Denied, false, ""},
		{"bcrypt wrong password", basicHeader("alice", "wonderland"), NeedSlowPath, false, ""},
		{"unknown user goes the slow way, as a known one would", basicHeader("mallory", "x"), NeedSlowPath, false, ""},
		{"scheme case and spacing", []byte("  basic \t" + string(basicHeader("carol", "Ca.rol!")[6:]) + " "), Authenticated, true, "carol"},
		{"not base64", []byte("Basic !!!!"), Denied, false, ""},
		{"no colon", []byte("Basic " + base64.StdEncoding.EncodeToString([]byte("carol"))), Denied, false, ""},
		{"empty user", basicHeader("", "Ca.rol!"), Denied, false, ""},
		{"too long", basicHeader("carol", strings.Repeat("x", 400)), Denied, false, ""},
		{"empty", nil, Denied, false, ""},
		{"digest not configured", []byte(`Digest username="erin"`), Denied, false, ""},
		{"other scheme", []byte("Bearer abc"), Denied, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, res := a.QuickCheck([]byte(m), []byte(uri), tt.header)
			if res != tt.wantQuick {
				t.Fatalf("QuickCheck: got %v, want %v", res, tt.wantQuick)
			}
			if res == Authenticated && user != tt.wantUser {
				t.Errorf("QuickCheck user: got %q, want %q", user, tt.wantUser)
			}
			user, ok := a.SlowCheck([]byte(m), []byte(uri), tt.header)
			if ok != tt.wantSlow || user != tt.wantUser {
				t.Errorf("SlowCheck: got %q %v, want %q %v", user, ok, tt.wantUser, tt.wantSlow)
			}
		})
	}

	// SlowCheck above cached alice's and bob's headers: QuickCheck now takes them.
	for _, u := range []string{"alice", "bob"} {
		if user, res := a.QuickCheck([]byte(m), []byte(uri), basicHeader(u, fixturePasswords[u])); res != Authenticated || user != u {
			t.Errorf("cached %s: got %q %v, want %q %v", u, user, res, u, Authenticated)
		}
	}
	if _, res := a.QuickCheck([]byte(m), []byte(uri), basicHeader("alice", "wonderland")); res != NeedSlowPath {
		t.Errorf("wrong password after a cached right one: got %v, want %v", res, NeedSlowPath)
	}
	now = now.Add(time.Minute + time.Second)
	if _, res := a.QuickCheck([]byte(m), []byte(uri), basicHeader("alice", "wonder land")); res != NeedSlowPath {
		t.Errorf("expired cache: got %v, want %v", res, NeedSlowPath)
	}
}

func TestQuickCheckAllocs(t *testing.T) {
	a, err := New(Config{BasicFile: "testdata/htpasswd", DigestFile: "testdata/htdigest"})
	if err != nil {
		t.Fatal(err)
	}
	m, uri := []byte("GET"), []byte("http://www.example.com/index.html")
	alice := basicHeader("alice", "wonder land")
	if _, ok := a.SlowCheck(m, uri, alice); !ok {
		t.Fatal("SlowCheck failed")
	}
	c := digestClient{alg: "MD5", user: "erin", password: "secret one"}
	c.challenge(t, a)
	nc := 0
	digest := func() []byte { nc++; return []byte(c.header("GET", string(uri), nc)) }
	headers := make([][]byte, 200)
	for i := range headers {
		headers[i] = digest()
	}
	tests := []struct {
		name string
		fn   func()
	}{
		{"basic cache hit", func() { a.QuickCheck(m, uri, alice) }},
		{"basic sha", func() { a.QuickCheck(m, uri, basicHeader("carol", "Ca.rol!")) }},
		{"digest", func() { a.QuickCheck(m, uri, headers[len(headers)-1]); headers = headers[:len(headers)-1] }},
		{"challenges", func() { a.Challenges(make([]byte, 0, 512), false) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var base float64
			if tt.name == "basic sha" {
				base = 2 // basicHeader itself allocates the header
			}
			if got := testing.AllocsPerRun(100, tt.fn); got > base {
				t.Errorf("got %v allocations, want %v", got, base)
			}
		})
	}
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(pw, []byte("alice:$2y$05$IJO8HC70Taym7gp8GExjMO6L1rIVlYzf4tZKmdYjT6ie8w7Q63Yf.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := New(Config{BasicFile: pw, DigestFile: "testdata/htdigest"})
	if err != nil {
		t.Fatal(err)
	}
	m, uri, alice := []byte("GET"), []byte("http://x.test/"), basicHeader("alice", "wonder land")
	a.SlowCheck(m, uri, alice)
	c := digestClient{alg: "MD5", user: "erin", password: "secret one"}
	c.challenge(t, a)
	if _, res := a.QuickCheck(m, uri, []byte(c.header("GET", string(uri), 1))); res != Authenticated {
		t.Fatalf("digest before reload: got %v", res)
	}

	if err := os.WriteFile(pw, []byte("carol:{SHA}yMoPICcM7ttRggS4O4C64x6kYGo=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := a.Reload()
	if err != nil {
		t.Fatal(err)
	}
	if _, res := b.QuickCheck(m, uri, alice); res != Denied {
		t.Errorf("removed user: got %v, want %v", res, Denied)
	}
	if _, res := a.QuickCheck(m, uri, alice); res != Authenticated {
		t.Errorf("old authenticator: got %v, want %v", res, Authenticated)
	}
	if _, res := b.QuickCheck(m, uri, []byte(c.header("GET", string(uri), 1))); res != Denied {
		t.Errorf("nc replayed across reload: got %v, want %v", res, Denied)
	}
	if _, res := b.QuickCheck(m, uri, []byte(c.header("GET", string(uri), 2))); res != Authenticated {
		t.Errorf("nonce from before reload: got %v, want %v", res, Authenticated)
	}

	if err := os.WriteFile(pw, []byte("carol:{SHA}yMoPICcM7ttRggS4O4C64x6kYGo=\ncarol:{SHA}yMoPICcM7ttRggS4O4C64x6kYGo=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Reload(); !errors.Is(err, ErrDuplicateUser) {
		t.Errorf("bad reload: got %v, want %v", err, ErrDuplicateUser)
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	otherRealm := filepath.Join(dir, "htdigest")
	os.WriteFile(otherRealm, []byte("frank:elsewhere:5afee5398a544191ccb8730a238bd63e\n"), 0o600)
	badHA1 := filepath.Join(dir, "badha1")
	os.WriteFile(badHA1, []byte("erin:edgeproxy:26f8b74838701505e727b4bb1358002\n"), 0o600)
	tests := []struct {
		name    string
		cfg     Config
		wantErr error
		wantMsg string
	}{
		{"no files", Config{}, ErrNoFiles, ""},
		{"realm with quote", Config{Realm: `a"b`, BasicFile: "testdata/htpasswd"}, ErrRealm, ""},
		{"missing file", Config{BasicFile: filepath.Join(dir, "missing")}, os.ErrNotExist, ""},
		{"no entries for realm", Config{DigestFile: otherRealm}, ErrNoRealmEntries, `realm "edgeproxy"`},
		{"short HA1", Config{DigestFile: badHA1}, ErrHash, badHA1 + `:1: user "erin"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("got %q, want it to contain %q", err.Error(), tt.wantMsg)
			}
		})
	}
}

// BenchmarkCheck shows what runs where: the QuickCheck paths stay in
// microseconds, while apr1 and bcrypt (htpasswd's default cost 5) are why
// SlowCheck exists.
func BenchmarkCheck(b *testing.B) {
	a, err := New(Config{BasicFile: "testdata/htpasswd", DigestFile: "testdata/htdigest-sha256"})
	if err != nil {
		b.Fatal(err)
	}
	m, uri := []byte("GET"), []byte("http://www.example.com/index.html")
	alice, bob, carol := basicHeader("alice", "wonder land"), basicHeader("bob", "b0b:pass"), basicHeader("carol", "Ca.rol!")
	a.SlowCheck(m, uri, alice)
	c := digestClient{alg: "SHA-256", user: "erin", password: "secret one"}
	c.challenge(b, a)
	headers := make([][]byte, 0, 1<<16)
	for i := range cap(headers) {
		headers = append(headers, []byte(c.header("GET", string(uri), i+1)))
	}
	b.Run("quick/basic-cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a.QuickCheck(m, uri, alice)
		}
	})
	b.Run("quick/basic-sha1", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a.QuickCheck(m, uri, carol)
		}
	})
	b.Run("quick/digest-sha256", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			a.QuickCheck(m, uri, headers[i%len(headers)])
			i++
		}
	})
	b.Run("slow/apr1", func(b *testing.B) {
		for b.Loop() {
			a.basic["bob"].verified.Store(nil)
			a.SlowCheck(m, uri, bob)
		}
	})
	b.Run("slow/bcrypt", func(b *testing.B) {
		for b.Loop() {
			a.basic["alice"].verified.Store(nil)
			a.SlowCheck(m, uri, alice)
		}
	})
	b.Run("challenges", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 1024)
		for b.Loop() {
			buf = a.Challenges(buf[:0], false)
		}
	})
}
