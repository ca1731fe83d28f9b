package auth

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync/atomic"
	"time"

	"edgeproxy/codec"
)

// Config says where credentials come from. The zero value of each optional
// field means its default.
type Config struct {
	// Realm names the protection space in challenges. If empty, "edgeproxy".
	Realm string
	// BasicFile is an htpasswd file for Basic authentication; empty disables
	// Basic.
	BasicFile string
	// DigestFile is an htdigest file, optionally extended with SHA-256 HA1s
	// (see loadHtdigest), for Digest authentication; empty disables Digest.
	DigestFile string
	// CacheTTL is how long a Basic header value that passed SlowCheck is
	// accepted by QuickCheck without rehashing. If zero, 5 minutes.
	CacheTTL time.Duration
	// NonceTTL is how long a Digest nonce stays valid; a later use is
	// answered with Stale. If zero, 5 minutes.
	NonceTTL time.Duration
}

// Defaults used when the Config fields are zero.
const (
	DefaultRealm    = "edgeproxy"
	DefaultCacheTTL = 5 * time.Minute
	DefaultNonceTTL = 5 * time.Minute
)

// Result is QuickCheck's verdict.
type Result uint8

const (
	// Denied means no valid credentials: none, malformed, an unknown user, a
	// wrong password, or a replayed nonce-count. Answer 407 with Challenges.
	Denied Result = iota
	// Authenticated means the credentials are good for the returned user.
	Authenticated
	// NeedSlowPath means a costly hash must run: call SlowCheck on a worker.
	NeedSlowPath
	// Stale means a correct Digest response for an expired or unknown
	// nonce: answer 407 with Challenges(dst, true).
	Stale
)

// String returns the result's name, for logs.
func (r Result) String() string {
	switch r {
	case Authenticated:
		return "authenticated"
	case NeedSlowPath:
		return "need-slow-path"
	case Stale:
		return "stale"
	}
	return "denied"
}

// Authenticator checks Proxy-Authorization values. It is immutable after New
// and safe for concurrent use.
type Authenticator struct {
	cfg    Config
	realm  []byte
	basic  map[string]*basicUser  // nil when Basic is off
	digest map[string]*digestUser // nil when Digest is off
	algs   []algorithm            // Digest challenges, most preferred first
	nonces *nonceIssuer
	now    func() time.Time

	// dummy is the entry an unknown Basic user's password is checked
	// against, so that the answer costs what a known user's costs and does
	// not tell by its timing which names exist (see dummyUser).
	dummy *basicUser
	// hashes counts the costly (bcrypt, apr1) password checks SlowCheck ran,
	// dummy ones included.
	hashes atomic.Uint64

	warnings []string // htpasswd lines skipped at load; see Warnings
}

// New loads the files cfg names. A load error names the file and line.
func New(cfg Config) (*Authenticator, error) {
	return build(cfg, nil)
}

// Reload reads a's files again and returns a new Authenticator; a is left
// unchanged. Nonces issued by a stay valid with the new one, and their
// replay windows carry over; the Basic verification cache starts empty so a
// changed password takes effect at once.
func (a *Authenticator) Reload() (*Authenticator, error) {
	return build(a.cfg, a.nonces)
}

// ReloadWith is Reload with a configuration that may name other files or
// another realm: the nonce key and replay state still carry over.
func (a *Authenticator) ReloadWith(cfg Config) (*Authenticator, error) {
	return build(cfg, a.nonces)
}

func build(cfg Config, ni *nonceIssuer) (*Authenticator, error) {
	if cfg.Realm == "" {
		cfg.Realm = DefaultRealm
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.NonceTTL <= 0 {
		cfg.NonceTTL = DefaultNonceTTL
	}
	if cfg.BasicFile == "" && cfg.DigestFile == "" {
		return nil, ErrNoFiles
	}
	for i := 0; i < len(cfg.Realm); i++ {
		if c := cfg.Realm[i]; c < 0x20 || c == 0x7f || c == '"' || c == '\\' {
			return nil, ErrRealm
		}
	}
	a := &Authenticator{cfg: cfg, realm: []byte(cfg.Realm), nonces: ni, now: time.Now}
	if a.nonces == nil {
		a.nonces = newNonceIssuer()
	}
	var err error
	if cfg.BasicFile != "" {
		if a.basic, a.warnings, err = loadHtpasswd(cfg.BasicFile); err != nil {
			return nil, err
		}
		if a.dummy, err = dummyUser(a.basic); err != nil {
			return nil, err
		}
	}
	if cfg.DigestFile != "" {
		users, md5s, sha256s, err := loadHtdigest(cfg.DigestFile, cfg.Realm)
		if err != nil {
			return nil, err
		}
		a.digest = users
		// Clients such as curl answer only the first Digest challenge, so it
		// must be one every user has an HA1 for: SHA-256 when all have one.
		if sha256s == len(users) {
			a.algs = append(a.algs, algSHA256)
		}
		if md5s > 0 {
			a.algs = append(a.algs, algMD5)
		}
		if sha256s > 0 && sha256s < len(users) {
			a.algs = append(a.algs, algSHA256)
		}
	}
	return a, nil
}

// Challenges appends one "Proxy-Authenticate: ...\r\n" field line per
// offered scheme, most preferred first: Digest SHA-256 and Digest MD5 (in the
// order explained in build) when a digest file is configured, then Basic
// when an htpasswd file is. stale marks the Digest challenges stale=true
// (RFC 7616 §3.3), telling the client to retry with the new nonce without
// prompting. It does not allocate beyond growing dst.
func (a *Authenticator) Challenges(dst []byte, stale bool) []byte {
	var buf [nonceLen]byte
	var nonce []byte
	if len(a.algs) > 0 {
		nonce = a.nonces.appendNonce(buf[:0], a.now().UnixNano())
	}
	for _, alg := range a.algs {
		dst = append(dst, `Proxy-Authenticate: Digest realm="`...)
		dst = append(dst, a.realm...)
		dst = append(dst, `", qop="auth", algorithm=`...)
		dst = append(dst, alg.name()...)
		dst = append(dst, `, nonce="`...)
		dst = append(dst, nonce...)
		dst = append(dst, `", opaque="`...)
		dst = append(dst, a.nonces.opaque...)
		dst = append(dst, '"')
		if stale {
			dst = append(dst, ", stale=true"...)
		}
		dst = append(dst, "\r\n"...)
	}
	if a.basic != nil {
		dst = append(dst, `Proxy-Authenticate: Basic realm="`...)
		dst = append(dst, a.realm...)
		dst = append(dst, `", charset="UTF-8"`+"\r\n"...)
	}
	return dst
}

// QuickCheck checks header, the Proxy-Authorization field value, for a
// request with the given method and request-target (uri, as sent: the
// absolute URL, or host:port for CONNECT). The Digest uri parameter must be
// that target or, for an absolute URL, its path and query, which is what
// curl and browsers send to a proxy. It is cheap enough for an event
// loop: at most a few SHA-256 or MD5 blocks, one short mutex hold for the
// Digest replay window, and no allocation. It returns the user name with
// Authenticated; NeedSlowPath means SlowCheck must decide.
func (a *Authenticator) QuickCheck(method, uri, header []byte) (user string, res Result) {
	header = codec.TrimOWS(header)
	scheme, rest := splitScheme(header)
	switch {
	case a.digest != nil && codec.EqualFold(scheme, "Digest"):
		return a.checkDigest(method, uri, rest)
	case a.basic != nil && codec.EqualFold(scheme, "Basic"):
		return a.quickBasic(header, rest)
	}
	return "", Denied
}

// SlowCheck is the full check, including bcrypt and apr1 hashing that may
// take milliseconds: call it on a worker goroutine after QuickCheck returned
// NeedSlowPath. On success with Basic it caches the header value for
// CacheTTL, so QuickCheck accepts it next time. A Stale Digest result
// reports false; QuickCheck is the place that distinguishes it.
func (a *Authenticator) SlowCheck(method, uri, header []byte) (user string, ok bool) {
	header = codec.TrimOWS(header)
	scheme, rest := splitScheme(header)
	switch {
	case a.digest != nil && codec.EqualFold(scheme, "Digest"):
		user, res := a.checkDigest(method, uri, rest)
		return user, res == Authenticated
	case a.basic != nil && codec.EqualFold(scheme, "Basic"):
		return a.slowBasic(header, rest)
	}
	return "", false
}

// splitScheme splits a credentials value into its auth-scheme and the rest,
// with the whitespace between them removed (RFC 9110 §11.4).
func splitScheme(h []byte) (scheme, rest []byte) {
	for i, c := range h {
		if c == ' ' || c == '\t' {
			return h[:i], codec.TrimOWS(h[i:])
		}
	}
	return h, nil
}

// maxBasicCredentials bounds the decoded user-pass of Basic credentials.
// bcrypt reads only 72 bytes of a password, and user names are short; a
// longer value is refused rather than decoded into a heap buffer.
const maxBasicCredentials = 384

// decodeBasic decodes Basic credentials (RFC 7617 §2): base64 of
// user-id ":" password. The results are views of buf.
func decodeBasic(token []byte, buf *[maxBasicCredentials]byte) (user, password []byte, ok bool) {
	if len(token) == 0 || base64.StdEncoding.DecodedLen(len(token)) > len(buf) {
		return nil, nil, false
	}
	n, err := base64.StdEncoding.Decode(buf[:], token)
	if err != nil {
		return nil, nil, false
	}
	user, password, ok = bytes.Cut(buf[:n], []byte{':'})
	return user, password, ok && len(user) > 0
}

// cached reports whether sum, the SHA-256 of a header value, is the one
// SlowCheck last proved for u and has not expired.
func (a *Authenticator) cached(u *basicUser, sum *[32]byte) bool {
	v := u.verified.Load()
	return v != nil && a.now().UnixNano() < v.expires && subtle.ConstantTimeCompare(v.sum[:], sum[:]) == 1
}

// quickBasic is QuickCheck for Basic: the cache, then {SHA} entries, which
// are cheap to verify; anything else needs the slow path.
func (a *Authenticator) quickBasic(header, token []byte) (string, Result) {
	var buf [maxBasicCredentials]byte
	user, password, ok := decodeBasic(token, &buf)
	if !ok {
		return "", Denied
	}
	u := a.basic[string(user)]
	if u == nil {
		// An unknown user takes the path a known one with a wrong password
		// takes: the slow path when the file has costly hashes, else a
		// {SHA} comparison that cannot match.
		if a.dummy.costly() {
			return "", NeedSlowPath
		}
		a.dummy.check(password)
		return "", Denied
	}
	sum := sha256.Sum256(header)
	switch {
	case a.cached(u, &sum):
		return u.name, Authenticated
	case u.costly():
		return "", NeedSlowPath
	case u.check(password):
		return u.name, Authenticated
	}
	return "", Denied
}

// slowBasic verifies Basic credentials with the entry's own hash and caches
// the header value on success.
func (a *Authenticator) slowBasic(header, token []byte) (string, bool) {
	var buf [maxBasicCredentials]byte
	user, password, ok := decodeBasic(token, &buf)
	if !ok {
		return "", false
	}
	u := a.basic[string(user)]
	if u == nil {
		if a.dummy.costly() {
			a.hashes.Add(1)
		}
		a.dummy.check(password)
		return "", false
	}
	sum := sha256.Sum256(header)
	if a.cached(u, &sum) {
		return u.name, true
	}
	if u.costly() {
		a.hashes.Add(1)
	}
	if !u.check(password) {
		return "", false
	}
	u.verified.Store(&verified{sum: sum, expires: a.now().Add(a.cfg.CacheTTL).UnixNano()})
	return u.name, true
}
