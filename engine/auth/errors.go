package auth

import "errors"

// Configuration and load errors. Each load error is wrapped with the file
// and line it was found on and the user it concerns; hashes are never quoted.
var (
	// ErrNoFiles means a Config with neither BasicFile nor DigestFile.
	ErrNoFiles = errors.New("auth: no basic_file or digest_file configured")
	// ErrRealm means a realm that is empty after defaulting or holds a quote,
	// backslash or control byte, which cannot be sent in a challenge.
	ErrRealm = errors.New("auth: invalid realm")
	// ErrLine means a line that is not user:hash (htpasswd) or
	// user:realm:HA1[:HA1] (htdigest), or has an empty or invalid user name.
	ErrLine = errors.New("auth: malformed line")
	// ErrDuplicateUser means a user listed twice in one file (and realm).
	ErrDuplicateUser = errors.New("auth: duplicate user")
	// ErrUnsupportedHash means an htpasswd hash scheme this package does not
	// verify: crypt(3) DES, plaintext, SHA-256-crypt or SHA-512-crypt.
	ErrUnsupportedHash = errors.New("auth: unsupported password hash")
	// ErrHash means a hash of a supported scheme that is malformed.
	ErrHash = errors.New("auth: malformed password hash")
	// ErrNoRealmEntries means an htdigest file with no entry for the
	// configured realm, so no one could log in with Digest.
	ErrNoRealmEntries = errors.New("auth: no digest entries for the realm")
)
