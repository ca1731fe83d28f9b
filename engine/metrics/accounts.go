package metrics

import (
	"encoding/binary"
	"hash/maphash"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
)

// MaxAccounts is the number of distinct clients, and separately of distinct
// users, that a Registry accounts for one by one. Requests from keys beyond
// it are added to the OtherKey bucket. A tracked key costs about 70 bytes
// plus the user name, so a full table holds 7-10 MB.
const MaxAccounts = 100_000

// OtherKey is the key, in the maps Accounts returns, of the bucket that
// aggregates clients or users beyond MaxAccounts. It cannot be an address;
// a user actually named "other" is merged with the bucket in snapshots.
const OtherKey = "other"

// Account is the traffic of one client address or one user.
type Account struct {
	Requests int64 `json:"requests"`  // requests completed
	Hits     int64 `json:"hits"`      // requests served from the cache
	BytesIn  int64 `json:"bytes_in"`  // request bytes received
	BytesOut int64 `json:"bytes_out"` // response bytes sent
}

func (a *Account) add(o *Outcome) {
	a.Requests++
	if o.Hit {
		a.Hits++
	}
	a.BytesIn += max(o.BytesIn, 0)
	a.BytesOut += max(o.BytesOut, 0)
}

func (a *Account) merge(b Account) {
	a.Requests += b.Requests
	a.Hits += b.Hits
	a.BytesIn += b.BytesIn
	a.BytesOut += b.BytesOut
}

// nStripes is the number of stripes per table, a power of two.
const nStripes = 256

// A table accounts traffic per key, striped by a hash of the key so that
// different keys rarely share a lock, and bounded to max keys.
type table[K comparable] struct {
	stripes [nStripes]stripe[K]
	hash    func(K) uint64 // picks the stripe
	keep    func(K) K      // copies a key before it is stored, or nil
	max     int64
	n       atomic.Int64 // keys tracked, never above max

	omu      sync.Mutex // protects overflow
	overflow Account    // traffic of keys beyond max
}

// A stripe keeps its accounts in one slice, grown by grow and indexed
// through a map that is only read once a key exists, for the reasons given
// at shard. (Accounts allocated one by one would share cache lines across
// stripes.) The map of a client table holds no pointers for the garbage
// collector to scan.
type stripe[K comparable] struct {
	mu    sync.Mutex  // protects idx and accts
	idx   map[K]int32 // index in accts of each key
	accts []Account
	_     [64]byte // keeps neighbouring stripes off these cache lines
}

func newTable[K comparable](limit int64, hash func(K) uint64, keep func(K) K) *table[K] {
	t := &table[K]{hash: hash, keep: keep, max: limit}
	for i := range t.stripes {
		t.stripes[i].idx = make(map[K]int32)
	}
	return t
}

// add counts o against k. It allocates only when k is new.
func (t *table[K]) add(k K, o *Outcome) {
	s := &t.stripes[t.hash(k)%nStripes]
	s.mu.Lock()
	i, ok := s.idx[k]
	if !ok && t.n.Add(1) <= t.max {
		if t.keep != nil {
			k = t.keep(k)
		}
		i, ok = int32(len(s.accts)), true
		s.idx[k] = i
		s.accts = grow(s.accts, 2)
	} else if !ok {
		t.n.Add(-1)
	}
	if ok {
		s.accts[i].add(o)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	t.omu.Lock()
	t.overflow.add(o)
	t.omu.Unlock()
}

// snapshot copies the table into a map keyed by format(k), with the
// overflow bucket under OtherKey if it has seen a request.
func (t *table[K]) snapshot(format func(K) string) map[string]Account {
	out := make(map[string]Account, t.n.Load()+1)
	for i := range t.stripes {
		s := &t.stripes[i]
		s.mu.Lock()
		for k, i := range s.idx {
			acc := out[format(k)]
			acc.merge(s.accts[i])
			out[format(k)] = acc
		}
		s.mu.Unlock()
	}
	if o := t.overflowed(); o.Requests > 0 {
		acc := out[OtherKey]
		acc.merge(o)
		out[OtherKey] = acc
	}
	return out
}

// overflowed returns the traffic of keys beyond max.
func (t *table[K]) overflowed() Account {
	t.omu.Lock()
	defer t.omu.Unlock()
	return t.overflow
}

// reset forgets every key and the overflow bucket, releasing the maps.
func (t *table[K]) reset() {
	for i := range t.stripes {
		s := &t.stripes[i]
		s.mu.Lock()
		t.n.Add(-int64(len(s.idx)))
		s.idx, s.accts = make(map[K]int32), nil
		s.mu.Unlock()
	}
	t.omu.Lock()
	t.overflow = Account{}
	t.omu.Unlock()
}

// seed keys hashString, so that nobody can pick user names that all land
// on one stripe.
var seed = maphash.MakeSeed()

// addrKey is a client address as a table key: its 16 bytes, IPv4 as
// IPv4-mapped IPv6. A zone is not part of the key.
type addrKey [16]byte

// addrSeed keys hashAddr, for the same reason as seed.
var addrSeed = rand.Uint64()

// hashAddr mixes the address's two halves with multiplies and shifts
// (the finaliser of splitmix64), much cheaper than maphash; the map hashes
// the key again anyway. The shifts matter: a multiply carries a change
// only upward, and IPv4 addresses differ in their last bytes.
func hashAddr(k addrKey) uint64 {
	h := (binary.LittleEndian.Uint64(k[:8])^addrSeed)*0x9e3779b97f4a7c15 ^ binary.LittleEndian.Uint64(k[8:])
	h = (h ^ h>>30) * 0xbf58476d1ce4e5b9
	h = (h ^ h>>27) * 0x94d049bb133111eb
	return h ^ h>>31
}

func addrString(k addrKey) string { return netip.AddrFrom16(k).Unmap().String() }

func hashString(s string) uint64 { return maphash.String(seed, s) }

// cloneString copies a user name before it is stored, so the table never
// pins a larger string the name was sliced from.
func cloneString(s string) string { return strings.Clone(s) }

// Accounts returns a snapshot of the traffic per client address and per
// user since New or the last ResetAccounts. Traffic beyond MaxAccounts keys
// is under OtherKey. The maps are the caller's.
func (r *Registry) Accounts() (clients map[string]Account, users map[string]Account) {
	return r.clients.snapshot(addrString), r.users.snapshot(func(s string) string { return s })
}

// ResetAccounts forgets all per-client and per-user traffic, as after a
// billing period, and frees the room it took. Other counters are kept.
// Requests recorded while it runs may land on either side of the reset.
func (r *Registry) ResetAccounts() {
	r.clients.reset()
	r.users.reset()
}
