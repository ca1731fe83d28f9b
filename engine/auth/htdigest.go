package auth

import (
	"bytes"
	"edgeproxy/codec"
	"fmt"
	"os"
	"strings"
)

// digestUser is one htdigest entry for the configured realm: the user's
// HA1 for each algorithm the file provides, as lower-case hex.
type digestUser struct {
	name   string
	md5    []byte // hex MD5(user:realm:password), 32 bytes, or nil
	sha256 []byte // hex SHA-256(user:realm:password), 64 bytes, or nil
}

// ha1 returns u's HA1 for alg, or nil when the file gave none.
func (u *digestUser) ha1(alg algorithm) []byte {
	if alg == algSHA256 {
		return u.sha256
	}
	return u.md5
}

// loadHtdigest reads an htdigest file for realm.
//
// Apache's htdigest writes user:realm:HA1 with HA1 = MD5(user:realm:password)
// in hex, which serves only algorithm=MD5. For SHA-256 the HA1 must be
// SHA-256(user:realm:password), which cannot be derived from the MD5 one, so
// this format is extended: the HA1 field's length says its algorithm (32 hex
// digits MD5, 64 SHA-256), and a line may carry both as
// user:realm:md5hex:sha256hex. A SHA-256 HA1 is made with
//
//	printf '%s' 'user:realm:password' | sha256sum
//
// Lines for other realms are skipped; blank lines and lines starting with '#'
// too. A file with no entry for realm is an error, since it would lock out
// everyone.
func loadHtdigest(path, realm string) (users map[string]*digestUser, hasMD5, hasSHA256 int, err error) {
	users, hasMD5, hasSHA256, err = readHtdigest(path, realm)
	if err != nil {
		return nil, 0, 0, &FileError{File: path, Err: err}
	}
	return users, hasMD5, hasSHA256, nil
}

// readHtdigest is loadHtdigest without the *FileError around its errors.
func readHtdigest(path, realm string) (users map[string]*digestUser, hasMD5, hasSHA256 int, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("auth: %w", err)
	}
	users = make(map[string]*digestUser)
	for n, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 || line[0] == '#' {
			continue
		}
		fields := strings.Split(string(line), ":")
		if len(fields) < 3 || len(fields) > 4 || !validUser(fields[0]) {
			return nil, 0, 0, fmt.Errorf("%s:%d: %w: want user:realm:HA1[:HA1]", path, n+1, ErrLine)
		}
		name := fields[0]
		if fields[1] != realm {
			continue
		}
		if _, dup := users[name]; dup {
			return nil, 0, 0, fmt.Errorf("%s:%d: user %q: %w", path, n+1, name, ErrDuplicateUser)
		}
		u := &digestUser{name: name}
		for _, h := range fields[2:] {
			h = strings.ToLower(h)
			switch {
			case len(h) == 32 && isHex(h) && u.md5 == nil:
				u.md5 = []byte(h)
			case len(h) == 64 && isHex(h) && u.sha256 == nil:
				u.sha256 = []byte(h)
			default:
				return nil, 0, 0, fmt.Errorf("%s:%d: user %q: %w: want one 32-digit (MD5) and/or one 64-digit (SHA-256) hex HA1", path, n+1, name, ErrHash)
			}
		}
		if u.md5 != nil {
			hasMD5++
		}
		if u.sha256 != nil {
			hasSHA256++
		}
		users[name] = u
	}
	if len(users) == 0 {
		return nil, 0, 0, fmt.Errorf("auth: %s: realm %q: %w", path, realm, ErrNoRealmEntries)
	}
	return users, hasMD5, hasSHA256, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if codec.HexValue(s[i]) < 0 {
			return false
		}
	}
	return true
}
