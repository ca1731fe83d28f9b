package auth

import (
	"bytes"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"github.com/GehirnInc/crypt"
	_ "github.com/GehirnInc/crypt/apr1_crypt"   // registers $apr1$ (htpasswd -m)
	_ "github.com/GehirnInc/crypt/sha256_crypt" // registers $5$ (htpasswd -2)
	_ "github.com/GehirnInc/crypt/sha512_crypt" // registers $6$ (htpasswd -5)
	"github.com/sergeymakinen/go-crypt/des"
	"golang.org/x/crypto/bcrypt"
)

// hashKind is the scheme of an htpasswd entry.
type hashKind uint8

const (
	hashSHA    hashKind = iota // {SHA}base64(SHA-1(password)): cheap, unsalted
	hashAPR1                   // $apr1$salt$hash: 1,000 MD5 rounds
	hashBcrypt                 // $2y$/$2a$/$2b$: deliberately slow
	hashSHA256                 // $5$[rounds=N$]salt$hash: SHA-256-crypt, 5,000 rounds by default
	hashSHA512                 // $6$[rounds=N$]salt$hash: SHA-512-crypt, 5,000 rounds by default
	hashDES                    // 13 characters: traditional crypt(3), first 8 password bytes only
)

// String names the scheme and the htpasswd flag that writes it, for logs.
func (k hashKind) String() string {
	switch k {
	case hashSHA:
		return "SHA-1 (htpasswd -s)"
	case hashAPR1:
		return "apr1 MD5 (htpasswd -m)"
	case hashBcrypt:
		return "bcrypt (htpasswd -B)"
	case hashSHA256:
		return "SHA-256-crypt (htpasswd -2)"
	case hashSHA512:
		return "SHA-512-crypt (htpasswd -5)"
	}
	return "crypt(3) DES (htpasswd -d)"
}

// desMaxPassword is how much of a password crypt(3) DES reads: the rest is
// ignored, as by the C library (htpasswd -d warns that it truncates).
const desMaxPassword = 8

// basicUser is one htpasswd entry.
type basicUser struct {
	name string
	kind hashKind
	hash string   // the stored hash as written (all but {SHA})
	sha  [20]byte // SHA-1 digest for {SHA}

	// verified caches the last Proxy-Authorization value that SlowCheck
	// proved for this user; nil until then.
	verified atomic.Pointer[verified]
}

// verified is a cached proof that a header value carried a correct password.
type verified struct {
	sum     [32]byte // SHA-256 of the header value
	expires int64    // Unix nanoseconds
}

// costly reports whether checking a password against u must leave the
// event loop.
func (u *basicUser) costly() bool { return u.kind != hashSHA }

// check reports whether password matches u's hash. Every scheme but {SHA}
// is slow by design. The schemes are computed by maintained libraries:
// golang.org/x/crypto/bcrypt, github.com/GehirnInc/crypt (apr1, SHA-crypt)
// and github.com/sergeymakinen/go-crypt/des (crypt(3) DES).
func (u *basicUser) check(password []byte) bool {
	if u.kind == hashSHA {
		sum := sha1.Sum(password)
		return subtle.ConstantTimeCompare(sum[:], u.sha[:]) == 1
	}
	// The libraries keep their arguments as far as escape analysis can
	// tell; a copy lets the callers' password buffers stay on the stack.
	return u.checkSlow(bytes.Clone(password))
}

// checkSlow is check for every scheme but {SHA}.
func (u *basicUser) checkSlow(password []byte) bool {
	switch u.kind {
	case hashBcrypt:
		return bcrypt.CompareHashAndPassword([]byte(u.hash), password) == nil
	case hashDES:
		return des.Check(u.hash, string(password[:min(len(password), desMaxPassword)])) == nil
	case hashAPR1, hashSHA256, hashSHA512:
		return crypt.NewFromHash(u.hash).Verify(u.hash, password) == nil
	}
	return false
}

// loadHtpasswd reads an htpasswd file as Apache's htpasswd writes it: one
// user:hash per line. Blank lines and lines starting with '#' are skipped.
//
// It verifies every hash Apache's htpasswd writes: bcrypt (-B: $2y$, also
// $2a$ and $2b$), apr1 MD5 (-m, the default: $apr1$), SHA-1 (-s: {SHA}),
// SHA-256-crypt (-2: $5$), SHA-512-crypt (-5: $6$) and crypt(3) DES (-d).
// A line it cannot use (no user:hash, a plaintext password from -p, {SSHA},
// a malformed hash) is skipped: it comes back as a warning naming the file,
// the line and the user, never the hash, and the other users can still log
// in. A user listed twice is an error, as is a file that cannot be read;
// either is a *FileError.
func loadHtpasswd(path string) (users map[string]*basicUser, warnings []string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, &FileError{File: path, Err: fmt.Errorf("auth: %w", err)}
	}
	users = make(map[string]*basicUser)
	for n, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 || line[0] == '#' {
			continue
		}
		name, hash, ok := strings.Cut(string(line), ":")
		if !ok || !validUser(name) {
			warnings = append(warnings, fmt.Sprintf("%s:%d: line skipped: %v: want user:hash", path, n+1, ErrLine))
			continue
		}
		if _, dup := users[name]; dup {
			return nil, nil, &FileError{File: path, Err: fmt.Errorf("%s:%d: user %q: %w", path, n+1, name, ErrDuplicateUser)}
		}
		u, detail, err := parseHash(name, hash)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("%s:%d: user %q skipped: %v: %s", path, n+1, name, err, detail))
			continue
		}
		users[name] = u
	}
	return users, warnings, nil
}

// parseHash classifies and validates one htpasswd hash. On failure it
// returns a sentinel and a detail that never includes the hash itself.
func parseHash(name, hash string) (u *basicUser, detail string, err error) {
	u = &basicUser{name: name, hash: hash}
	switch {
	case strings.HasPrefix(hash, "{SHA}"):
		sum, err := base64.StdEncoding.DecodeString(hash[len("{SHA}"):])
		if err != nil || len(sum) != len(u.sha) {
			return nil, "{SHA} is not base64 of a 20-byte SHA-1 digest", ErrHash
		}
		u.kind, u.hash = hashSHA, ""
		copy(u.sha[:], sum)
	case strings.HasPrefix(hash, "$apr1$"):
		if !cryptShape(hash, "$apr1$", 8, 22) {
			return nil, "want $apr1$salt$ with a salt of 1-8 bytes and a 22-character hash", ErrHash
		}
		u.kind = hashAPR1
	case strings.HasPrefix(hash, "$5$"):
		if !cryptShape(hash, "$5$", 16, 43) {
			return nil, "want $5$[rounds=N$]salt$ with a salt of 1-16 bytes and a 43-character hash", ErrHash
		}
		u.kind = hashSHA256
	case strings.HasPrefix(hash, "$6$"):
		if !cryptShape(hash, "$6$", 16, 86) {
			return nil, "want $6$[rounds=N$]salt$ with a salt of 1-16 bytes and an 86-character hash", ErrHash
		}
		u.kind = hashSHA512
	case strings.HasPrefix(hash, "$2y$"), strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"):
		if _, cerr := bcrypt.Cost([]byte(hash)); cerr != nil {
			return nil, "bcrypt: " + cerr.Error(), ErrHash
		}
		u.kind = hashBcrypt
	case strings.HasPrefix(hash, "{SSHA}"):
		return nil, "salted SHA-1 ({SSHA}); use bcrypt (htpasswd -B)", ErrUnsupportedHash
	case len(hash) == 13 && strings.Trim(hash, itoa64) == "":
		u.kind = hashDES
	default:
		return nil, "plaintext (htpasswd -p) or an unknown scheme; use bcrypt (htpasswd -B)", ErrUnsupportedHash
	}
	return u, "", nil
}

// cryptShape reports whether hash is prefix, an optional "rounds=N$", a
// salt of 1 to maxSalt bytes without '$', '$', and a sum of sumLen
// characters of crypt's base-64 alphabet: the modular crypt format
// htpasswd writes for apr1 and SHA-crypt.
func cryptShape(hash, prefix string, maxSalt, sumLen int) bool {
	rest := hash[len(prefix):]
	if r, ok := strings.CutPrefix(rest, "rounds="); ok && prefix != "$apr1$" {
		digits, after, ok := strings.Cut(r, "$")
		if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" {
			return false
		}
		rest = after
	}
	salt, sum, ok := strings.Cut(rest, "$")
	return ok && len(salt) > 0 && len(salt) <= maxSalt && len(sum) == sumLen && strings.Trim(sum, itoa64) == ""
}

// validUser reports whether name can be a user name: non-empty, without
// control bytes or a colon (which ends the user-id in Basic credentials,
// RFC 7617 §2).
func validUser(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// itoa64 is the alphabet of crypt(3)'s base-64 encoding.
const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
