package auth

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"

	"edgeproxy/codec"
)

// algorithm is a Digest hash algorithm (RFC 7616 §3.3).
type algorithm uint8

const (
	algMD5 algorithm = iota
	algSHA256
)

// name is the algorithm's token in challenges and credentials.
func (alg algorithm) name() string {
	if alg == algSHA256 {
		return "SHA-256"
	}
	return "MD5"
}

// sum hashes b with alg; only the first size() bytes are meaningful.
func (alg algorithm) sum(b []byte) (out [32]byte) {
	if alg == algSHA256 {
		return sha256.Sum256(b)
	}
	m := md5.Sum(b)
	copy(out[:], m[:])
	return out
}

func (alg algorithm) size() int {
	if alg == algSHA256 {
		return sha256.Size
	}
	return md5.Size
}

// digestParams holds views of the parameters of Digest credentials.
type digestParams struct {
	username, realm, nonce, uri, response, algorithm, cnonce, opaque, qop, nc []byte
	// userhash or username* were sent; neither is offered, so both refuse.
	unsupported bool
}

// parseDigest parses the auth-params after "Digest " (RFC 7616 §3.4,
// RFC 9110 §11.2). Values are views of v, except that a quoted value with
// backslash escapes, which clients rarely send, is unescaped into a new
// slice. A repeated or malformed parameter fails.
func parseDigest(v []byte) (p digestParams, ok bool) {
	for {
		for len(v) > 0 && (v[0] == ' ' || v[0] == '\t' || v[0] == ',') {
			v = v[1:]
		}
		if len(v) == 0 {
			return p, true
		}
		i := 0
		for i < len(v) && codec.IsToken(v[i:i+1]) {
			i++
		}
		name := v[:i]
		v = codec.TrimOWS(v[i:])
		if len(name) == 0 || len(v) == 0 || v[0] != '=' {
			return p, false
		}
		v = codec.TrimOWS(v[1:])
		var val []byte
		if len(v) > 0 && v[0] == '"' {
			end, escaped := 1, false
			for end < len(v) && v[end] != '"' {
				if v[end] == '\\' {
					end, escaped = end+1, true
				}
				end++
			}
			if end >= len(v) {
				return p, false
			}
			val, v = v[1:end], v[end+1:]
			if escaped {
				val = unescape(val)
			}
		} else {
			j := 0
			for j < len(v) && codec.IsToken(v[j:j+1]) {
				j++
			}
			val, v = v[:j], v[j:]
		}
		if !p.set(name, val) {
			return p, false
		}
	}
}

// unescape removes the backslashes of a quoted-pair (RFC 9110 §5.6.4) from
// the contents of a quoted string. Every backslash in q is followed by the
// byte it escapes.
func unescape(q []byte) []byte {
	out := make([]byte, 0, len(q))
	for j := 0; j < len(q); j++ {
		if q[j] == '\\' {
			j++
		}
		out = append(out, q[j])
	}
	return out
}

// set stores one parameter and reports false for a repeated one.
func (p *digestParams) set(name, val []byte) bool {
	var dst *[]byte
	switch {
	case codec.EqualFold(name, "username"):
		dst = &p.username
	case codec.EqualFold(name, "realm"):
		dst = &p.realm
	case codec.EqualFold(name, "nonce"):
		dst = &p.nonce
	case codec.EqualFold(name, "uri"):
		dst = &p.uri
	case codec.EqualFold(name, "response"):
		dst = &p.response
	case codec.EqualFold(name, "algorithm"):
		dst = &p.algorithm
	case codec.EqualFold(name, "cnonce"):
		dst = &p.cnonce
	case codec.EqualFold(name, "opaque"):
		dst = &p.opaque
	case codec.EqualFold(name, "qop"):
		dst = &p.qop
	case codec.EqualFold(name, "nc"):
		dst = &p.nc
	case codec.EqualFold(name, "userhash"):
		p.unsupported = p.unsupported || !codec.EqualFold(val, "false")
		return true
	case codec.EqualFold(name, "username*"):
		p.unsupported = true
		return true
	default:
		return true // unknown parameters are ignored (RFC 7616 §3.4)
	}
	if *dst != nil {
		return false
	}
	if val == nil {
		val = []byte{}
	}
	*dst = val
	return true
}

// parseNC parses the 8 hex digits of a nonce-count (RFC 7616 §3.4).
func parseNC(b []byte) (uint32, bool) {
	if len(b) != 8 {
		return 0, false
	}
	var n uint32
	for _, c := range b {
		v := codec.HexValue(c)
		if v < 0 {
			return 0, false
		}
		n = n<<4 | uint32(v)
	}
	return n, n != 0
}

// digestResponse computes the expected response for qop=auth (RFC 7616
// §3.4.1): H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" H(method ":" uri)),
// with hashes written as lower-case hex. ha1 is already hex.
func digestResponse(alg algorithm, ha1, method, uri, nonce, nc, cnonce, qop []byte) [32]byte {
	var stack [512]byte
	b := append(stack[:0], method...)
	b = append(b, ':')
	b = append(b, uri...)
	ha2 := alg.sum(b)
	var ha2hex [64]byte
	hex.Encode(ha2hex[:], ha2[:alg.size()])

	b = append(b[:0], ha1...)
	for _, part := range [...][]byte{nonce, nc, cnonce, qop, ha2hex[:2*alg.size()]} {
		b = append(b, ':')
		b = append(b, part...)
	}
	return alg.sum(b)
}

// sameTarget reports whether the uri parameter of Digest credentials names
// the request-target, as RFC 7616 §3.4.6 requires ("the same or
// equivalent"): either byte for byte, or, for an absolute-form target, as its
// path and query, which is what curl and browsers send to a proxy.
func sameTarget(param, target []byte) bool {
	if bytes.Equal(param, target) {
		return true
	}
	i := bytes.Index(target, []byte("://"))
	if i < 0 {
		return false
	}
	rest := target[i+3:]
	j := bytes.IndexAny(rest, "/?")
	if j < 0 {
		return string(param) == "/"
	}
	path := rest[j:]
	if path[0] == '?' {
		return len(param) == len(path)+1 && param[0] == '/' && bytes.Equal(param[1:], path)
	}
	return bytes.Equal(param, path)
}

// checkDigest verifies Digest credentials v (after the scheme) for a request
// with method and request-target uri.
func (a *Authenticator) checkDigest(method, uri, v []byte) (string, Result) {
	p, ok := parseDigest(v)
	if !ok || p.unsupported || !bytes.Equal(p.realm, a.realm) || !codec.EqualFold(p.qop, "auth") || len(p.cnonce) == 0 {
		return "", Denied
	}
	alg := algMD5
	switch {
	case len(p.algorithm) == 0 || codec.EqualFold(p.algorithm, "MD5"):
	case codec.EqualFold(p.algorithm, "SHA-256"):
		alg = algSHA256
	default:
		return "", Denied // -sess and SHA-512-256 are not offered
	}
	nc, ok := parseNC(p.nc)
	if !ok || !sameTarget(p.uri, uri) {
		return "", Denied
	}
	u := a.digest[string(p.username)]
	if u == nil {
		return "", Denied
	}
	ha1 := u.ha1(alg)
	if ha1 == nil {
		return "", Denied
	}
	var got [32]byte
	if len(p.response) != 2*alg.size() {
		return "", Denied
	}
	if _, err := hex.Decode(got[:], p.response); err != nil {
		return "", Denied
	}
	want := digestResponse(alg, ha1, method, p.uri, p.nonce, p.nc, p.cnonce, p.qop)
	if subtle.ConstantTimeCompare(got[:alg.size()], want[:alg.size()]) != 1 {
		return "", Denied
	}
	// The client knows the password; now decide whether the nonce is
	// current. One we did not sign (say, from before a restart) or one past
	// its lifetime is stale: the client retries silently with a new one.
	id, issued, st := a.nonces.check(p.nonce, a.now().UnixNano(), int64(a.cfg.NonceTTL))
	if st != nonceOK {
		return "", Stale
	}
	if string(p.opaque) != a.nonces.opaque {
		return "", Denied
	}
	switch a.nonces.replay.use(id, issued, nc) {
	case ncReplayed:
		return "", Denied
	case ncForgotten:
		return "", Stale
	}
	return u.name, Authenticated
}
