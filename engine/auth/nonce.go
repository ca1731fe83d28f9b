package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"sync"
	"sync/atomic"
)

// A nonce is base64url(issued || serial || mac): issued is the Unix time in
// nanoseconds, serial a per-process counter that makes every nonce unique,
// and mac the first 16 bytes of HMAC-SHA-256(key, issued || serial).
const (
	nonceIDLen  = 16
	nonceRawLen = nonceIDLen + 16
	nonceLen    = 43 // base64.RawURLEncoding.EncodedLen(nonceRawLen)
)

// nonceID is the signed part of a nonce; it keys the replay window.
type nonceID [nonceIDLen]byte

// nonceState is the verdict on a nonce a client sent back.
type nonceState uint8

const (
	nonceOK      nonceState = iota
	nonceStale              // ours, but older than the nonce lifetime
	nonceForeign            // not signed with our key, or malformed
)

// nonceIssuer makes and checks nonces. It is shared by an Authenticator and
// every Authenticator Reload derives from it, so nonces survive a reload.
type nonceIssuer struct {
	ipad, opad [64]byte // HMAC key blocks
	opaque     string
	serial     atomic.Uint64
	replay     replayWindow
}

func newNonceIssuer() *nonceIssuer {
	var key [32]byte
	rand.Read(key[:])
	ni := new(nonceIssuer)
	for i := range ni.ipad {
		ni.ipad[i], ni.opad[i] = 0x36, 0x5c
	}
	for i, b := range key {
		ni.ipad[i] ^= b
		ni.opad[i] ^= b
	}
	var opaque [12]byte
	rand.Read(opaque[:])
	ni.opaque = base64.RawURLEncoding.EncodeToString(opaque[:])
	ni.replay.cur = make(map[nonceID]ncWindow)
	ni.replay.prev = make(map[nonceID]ncWindow)
	return ni
}

// mac returns HMAC-SHA-256 of id under the issuer's key, computed on the
// stack so that neither issuing nor checking a nonce allocates.
func (ni *nonceIssuer) mac(id *nonceID) [32]byte {
	var buf [64 + 32]byte
	copy(buf[:64], ni.ipad[:])
	copy(buf[64:], id[:])
	inner := sha256.Sum256(buf[:64+nonceIDLen])
	copy(buf[:64], ni.opad[:])
	copy(buf[64:], inner[:])
	return sha256.Sum256(buf[:])
}

// appendNonce appends a fresh nonce issued at now (Unix nanoseconds).
func (ni *nonceIssuer) appendNonce(dst []byte, now int64) []byte {
	var raw [nonceRawLen]byte
	var id nonceID
	binary.BigEndian.PutUint64(id[:8], uint64(now))
	binary.BigEndian.PutUint64(id[8:], ni.serial.Add(1))
	m := ni.mac(&id)
	copy(raw[:], id[:])
	copy(raw[nonceIDLen:], m[:16])
	return base64.RawURLEncoding.AppendEncode(dst, raw[:])
}

// check verifies a nonce at now against a lifetime of ttl nanoseconds and
// returns its id and issue time.
func (ni *nonceIssuer) check(nonce []byte, now, ttl int64) (id nonceID, issued int64, st nonceState) {
	var raw [nonceRawLen]byte
	if len(nonce) != nonceLen {
		return id, 0, nonceForeign
	}
	if n, err := base64.RawURLEncoding.Decode(raw[:], nonce); err != nil || n != nonceRawLen {
		return id, 0, nonceForeign
	}
	copy(id[:], raw[:nonceIDLen])
	m := ni.mac(&id)
	if subtle.ConstantTimeCompare(m[:16], raw[nonceIDLen:]) != 1 {
		return id, 0, nonceForeign
	}
	issued = int64(binary.BigEndian.Uint64(id[:8]))
	if now-issued > ttl || issued-now > ttl {
		return id, issued, nonceStale
	}
	return id, issued, nonceOK
}

// replayVerdict is the outcome of recording a nonce-count.
type replayVerdict uint8

const (
	ncFresh     replayVerdict = iota // first use of this nc with this nonce
	ncReplayed                       // seen before, or too far behind the highest
	ncForgotten                      // the nonce's window was evicted: re-challenge
)

// maxTracked bounds one generation of the replay map. Two generations are
// kept, so up to 2*maxTracked nonces in use at once keep their windows.
const maxTracked = 1 << 15

// replayWindow remembers, per nonce in use, which nonce-counts were seen.
type replayWindow struct {
	mu sync.Mutex // protects the fields below; held for a few map operations

	cur, prev map[nonceID]ncWindow
	// curMax and prevMax are the latest issue times in each generation.
	curMax, prevMax int64
	// floor is the latest issue time among evicted windows: a nonce issued
	// at or before it that has no window may have lost one, so it cannot be
	// trusted as unused.
	floor int64
}

// ncWindow is a 64-entry sliding window over nonce-counts, as in IPsec
// anti-replay (RFC 4303 §3.4.3): top is the highest nc seen and bit i of
// seen records whether top-i was.
type ncWindow struct {
	top  uint32
	seen uint64
}

// accept records nc and reports whether it had not been seen.
func (w *ncWindow) accept(nc uint32) bool {
	if nc > w.top {
		if d := nc - w.top; d >= 64 {
			w.seen = 1
		} else {
			w.seen = w.seen<<d | 1
		}
		w.top = nc
		return true
	}
	d := w.top - nc
	if d >= 64 || w.seen&(1<<d) != 0 {
		return false
	}
	w.seen |= 1 << d
	return true
}

// use records nonce-count nc (non-zero) for the nonce id issued at issued.
func (r *replayWindow) use(id nonceID, issued int64, nc uint32) replayVerdict {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.cur[id]
	if !ok {
		if w, ok = r.prev[id]; ok {
			delete(r.prev, id)
		} else if issued <= r.floor {
			return ncForgotten
		}
		if len(r.cur) >= maxTracked {
			r.floor = max(r.floor, r.prevMax)
			clear(r.prev)
			r.prev, r.cur = r.cur, r.prev
			r.prevMax, r.curMax = r.curMax, 0
		}
		r.curMax = max(r.curMax, issued)
	}
	fresh := w.accept(nc)
	r.cur[id] = w
	if !fresh {
		return ncReplayed
	}
	return ncFresh
}
