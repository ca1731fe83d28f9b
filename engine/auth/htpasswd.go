package auth

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/bcrypt"
)

// hashKind is the scheme of an htpasswd entry.
type hashKind uint8

const (
	hashSHA    hashKind = iota // {SHA}base64(SHA-1(password)): cheap, unsalted
	hashAPR1                   // $apr1$salt$hash: 1,000 MD5 rounds
	hashBcrypt                 // $2y$/$2a$/$2b$: deliberately slow
)

// basicUser is one htpasswd entry.
type basicUser struct {
	name string
	kind hashKind
	hash []byte   // the stored hash as written (bcrypt and apr1)
	salt []byte   // apr1 salt
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

// check reports whether password matches u's hash. For bcrypt and apr1 it is
// slow by design.
func (u *basicUser) check(password []byte) bool {
	switch u.kind {
	case hashSHA:
		sum := sha1.Sum(password)
		return subtle.ConstantTimeCompare(sum[:], u.sha[:]) == 1
	case hashAPR1:
		h := apr1(password, u.salt)
		return subtle.ConstantTimeCompare(h[:], u.hash) == 1
	default:
		return bcrypt.CompareHashAndPassword(u.hash, password) == nil
	}
}

// loadHtpasswd reads an htpasswd file as Apache's htpasswd writes it: one
// user:hash per line. Blank lines and lines starting with '#' are skipped.
//
// Supported hashes are bcrypt (htpasswd -B: $2y$, also $2a$ and $2b$), apr1
// MD5 (htpasswd -m, the default: $apr1$) and SHA-1 (htpasswd -s: {SHA}).
// crypt(3) DES (-d), plaintext (-p) and SHA-crypt (-2, -5: $5$, $6$) are
// refused with ErrUnsupportedHash: DES and plaintext cannot be told apart
// from each other reliably and are unsafe, and SHA-crypt is not implemented.
func loadHtpasswd(path string) (map[string]*basicUser, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	users := make(map[string]*basicUser)
	for n, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 || line[0] == '#' {
			continue
		}
		at := func(user string, err error, detail string) error {
			if detail != "" {
				return fmt.Errorf("%s:%d: user %q: %w: %s", path, n+1, user, err, detail)
			}
			return fmt.Errorf("%s:%d: user %q: %w", path, n+1, user, err)
		}
		name, hash, ok := strings.Cut(string(line), ":")
		if !ok || !validUser(name) {
			return nil, fmt.Errorf("%s:%d: %w: want user:hash", path, n+1, ErrLine)
		}
		if _, dup := users[name]; dup {
			return nil, at(name, ErrDuplicateUser, "")
		}
		u, detail, err := parseHash(name, hash)
		if err != nil {
			return nil, at(name, err, detail)
		}
		users[name] = u
	}
	return users, nil
}

// parseHash classifies and validates one htpasswd hash. On failure it
// returns a sentinel and a detail that never includes the hash itself.
func parseHash(name, hash string) (u *basicUser, detail string, err error) {
	u = &basicUser{name: name, hash: []byte(hash)}
	switch {
	case strings.HasPrefix(hash, "{SHA}"):
		sum, err := base64.StdEncoding.DecodeString(hash[len("{SHA}"):])
		if err != nil || len(sum) != len(u.sha) {
			return nil, "{SHA} is not base64 of a 20-byte SHA-1 digest", ErrHash
		}
		u.kind = hashSHA
		copy(u.sha[:], sum)
	case strings.HasPrefix(hash, apr1Magic):
		salt, sum, ok := strings.Cut(hash[len(apr1Magic):], "$")
		if !ok || len(salt) == 0 || len(salt) > 8 || len(sum) != 22 || strings.Trim(sum, itoa64) != "" {
			return nil, "want $apr1$salt$ with a salt of 1-8 bytes and a 22-character hash", ErrHash
		}
		u.kind, u.salt, u.hash = hashAPR1, []byte(salt), []byte(sum)
	case strings.HasPrefix(hash, "$2y$"), strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"):
		if _, cerr := bcrypt.Cost(u.hash); cerr != nil {
			return nil, "bcrypt: " + cerr.Error(), ErrHash
		}
		u.kind = hashBcrypt
	case strings.HasPrefix(hash, "$5$"), strings.HasPrefix(hash, "$6$"):
		return nil, "SHA-crypt (htpasswd -2/-5); use bcrypt (htpasswd -B)", ErrUnsupportedHash
	case strings.HasPrefix(hash, "{SSHA}"):
		return nil, "salted SHA-1 ({SSHA}); use bcrypt (htpasswd -B)", ErrUnsupportedHash
	default:
		return nil, "crypt(3) DES or plaintext (htpasswd -d/-p); use bcrypt (htpasswd -B)", ErrUnsupportedHash
	}
	return u, "", nil
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

// apr1Magic introduces Apache's MD5-based crypt variant.
const apr1Magic = "$apr1$"

// itoa64 is the alphabet of crypt(3)'s base-64 encoding.
const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// apr1 returns the 22-character apr1 hash of password with salt (at most 8
// bytes), as apr_md5_encode in APR computes it: the FreeBSD MD5-crypt
// algorithm with "$apr1$" as its magic string. It costs about 1,000 MD5
// blocks, which is why apr1 entries are verified on the slow path.
func apr1(password, salt []byte) [22]byte {
	// alt = MD5(password salt password)
	buf := make([]byte, 0, 2*len(password)+len(salt)+64)
	buf = append(append(append(buf, password...), salt...), password...)
	alt := md5.Sum(buf)

	buf = append(append(append(buf[:0], password...), apr1Magic...), salt...)
	for n := len(password); n > 0; n -= 16 {
		buf = append(buf, alt[:min(n, 16)]...)
	}
	for n := len(password); n > 0; n >>= 1 {
		if n&1 != 0 {
			buf = append(buf, 0)
		} else {
			buf = append(buf, password[0])
		}
	}
	sum := md5.Sum(buf)

	// 1,000 rounds to slow brute force down.
	for i := range 1000 {
		buf = buf[:0]
		if i&1 != 0 {
			buf = append(buf, password...)
		} else {
			buf = append(buf, sum[:]...)
		}
		if i%3 != 0 {
			buf = append(buf, salt...)
		}
		if i%7 != 0 {
			buf = append(buf, password...)
		}
		if i&1 != 0 {
			buf = append(buf, sum[:]...)
		} else {
			buf = append(buf, password...)
		}
		sum = md5.Sum(buf)
	}

	var out [22]byte
	o := out[:0]
	to64 := func(v uint32, n int) {
		for ; n > 0; n-- {
			o = append(o, itoa64[v&0x3f])
			v >>= 6
		}
	}
	for _, g := range [5][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		to64(uint32(sum[g[0]])<<16|uint32(sum[g[1]])<<8|uint32(sum[g[2]]), 4)
	}
	to64(uint32(sum[11]), 2)
	return out
}
