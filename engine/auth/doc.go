// Package auth checks Proxy-Authorization credentials against Apache-style
// htpasswd (Basic) and htdigest (Digest) files.
//
// The check is split by cost so that an event loop never runs a slow hash.
// QuickCheck does everything that takes microseconds: it parses the header,
// verifies Digest responses (a few MD5 or SHA-256 blocks), verifies {SHA}
// Basic entries, and accepts Basic credentials whose exact header value was
// verified recently; it answers NeedSlowPath when any other htpasswd hash
// (bcrypt, apr1, SHA-256/512-crypt, crypt(3) DES) would have to run. SlowCheck runs that hash on a worker goroutine and, on
// success, stores a SHA-256 of the header value in the user's entry, so the
// next request with the same credentials is accepted by QuickCheck with one
// SHA-256 and a constant-time compare. An unknown Basic user is checked
// against a dummy entry as costly as the costliest in the file, so a 407
// takes as long whether or not the name exists.
//
// Limiter bounds failed authentications per client address with a token
// bucket in a bounded table; the engine consults it before queueing a slow
// check, so a password flood from one address costs at most its few
// attempts of hashing.
//
// Digest (RFC 7616) uses qop=auth with MD5 and SHA-256. Nonces carry their
// issue time and a counter and are signed with HMAC-SHA-256 under a key made
// at start-up, so the server keeps no per-nonce state until a nonce is used;
// an expired or foreign nonce with an otherwise correct response yields
// Stale, and the engine re-challenges with stale=true so the client retries
// without asking its user. Each used nonce has a 64-entry sliding window of
// nonce-counts, kept in two bounded generations of a map, so a replayed or
// reused nc is refused while requests pipelined out of order still pass.
//
// An Authenticator is immutable once built and safe for concurrent use;
// Reload builds a new one from the same files, sharing the nonce key and the
// replay window, for the engine to swap in atomically.
package auth
