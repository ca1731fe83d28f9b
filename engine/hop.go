package engine

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"edgeproxy/cache"
	"edgeproxy/codec"
	"edgeproxy/engine/cluster"
	"edgeproxy/engine/config"
	"edgeproxy/engine/origin"
)

// Next hops (issue 14). A request leaves this node by one of three routes:
// straight to its origin, to the cluster peer that owns its URL, or through
// a parent proxy. nextHop is the one place that chooses, with CARP
// rendezvous hashing (engine/cluster) over the members that are up:
//
//   - A URL owned by another live peer goes to that peer, as to a parent
//     proxy: absolute-form, Via added, on the loop's origin pool (keyed by
//     the peer). This node neither looks it up nor stores it.
//   - A request that came from a peer (its Via names another member of the
//     cluster) is never sent to a peer again: this node is its owner, or
//     the next in rendezvous order while the owner is down.
//   - Otherwise, with upstream.parents, the parent chosen by the same
//     hashing over the parents that are up; with none up, 503 when
//     upstream.never_direct is on, the origin otherwise.
//
// A peer or parent whose connection fails is marked down at once, and the
// request that found it down moves to the next member in rendezvous order;
// the probes (hop_health.go) bring it back.

// hopKind tells a peer from a parent.
type hopKind uint8

const (
	hopPeer hopKind = iota + 1
	hopParent
)

// member is a cluster peer or a parent proxy, with its health and counters.
type member struct {
	kind hopKind
	name string
	addr string // host:port of its proxy port
	// key is the origin pool key of its connections. It holds a space,
	// which no host:port taken from a request can, so a client can never
	// reach a peer's connections (or skip the destination check) by naming
	// its address.
	key  string
	auth string // Proxy-Authorization value for a parent with credentials, or ""

	up       atomic.Bool
	requests atomic.Int64 // requests sent to it
	failures atomic.Int64 // connections that failed, and probes that did
	since    atomic.Int64 // unix seconds of the last change of up
}

// hops is the routing state of a node with cluster peers or parents. It is
// built once at start-up; only the members' health changes afterwards.
type hops struct {
	self        int       // this node's index in peers; -1 without a cluster
	peers       []*member // in configured order; peers[self] is this node
	ptab        *cluster.Table
	parents     []*member
	atab        *cluster.Table
	neverDirect bool
	names       map[string]bool     // every peer name but self's, as Via names them
	peerIPs     map[netip.Addr]bool // addresses of the peers, trusted to forward PURGE
	keys        map[string]*member  // by pool key
	peerUp      func(int) bool      // bound once, so Owner allocates nothing
	parentUp    func(int) bool

	interval time.Duration // cluster.probe_interval
	timeout  time.Duration // cluster.probe_timeout
	fromPeer atomic.Int64  // requests received from peers
	failover atomic.Int64  // requests moved to the next member after a failure
	rounds   atomic.Int64  // probe rounds ended
}

// hopRoute is where one request goes, kept with its exchange so that a
// failed member can be replaced by the next.
type hopRoute struct {
	m        *member
	key      []byte // the cache key, which is what is hashed
	fromPeer bool
	origin   string // the origin's host:port, for a fall back to direct
	head     []byte // the absolute-form request head, without credentials
	tries    int
}

// toPeer reports whether the request goes to the peer that owns its URL.
func (r *hopRoute) toPeer() bool { return r != nil && r.m != nil && r.m.kind == hopPeer }

// newHops builds the routing state of cfg, or nil when it has neither
// cluster peers nor parents.
func newHops(cfg *config.Config) (*hops, error) {
	if len(cfg.Cluster.Peers) == 0 && len(cfg.Upstream.Parents) == 0 {
		return nil, nil
	}
	h := &hops{
		self:        -1,
		names:       map[string]bool{},
		peerIPs:     map[netip.Addr]bool{},
		keys:        map[string]*member{},
		neverDirect: *cfg.Upstream.NeverDirect,
		interval:    time.Duration(cfg.Cluster.ProbeInterval),
		timeout:     time.Duration(cfg.Cluster.ProbeTimeout),
	}
	now := time.Now().Unix()
	var ms []cluster.Member
	for i, p := range cfg.Cluster.Peers {
		m := &member{kind: hopPeer, name: p.Name, addr: p.Address, key: "peer " + p.Name}
		m.up.Store(true)
		m.since.Store(now)
		h.peers = append(h.peers, m)
		ms = append(ms, cluster.Member{Name: p.Name, Weight: p.Weight})
		if p.Name == cfg.Cluster.Self {
			h.self = i
			continue
		}
		h.names[p.Name] = true
		h.keys[m.key] = m
		host, _, _ := net.SplitHostPort(p.Address)
		if a, err := netip.ParseAddr(host); err == nil {
			h.peerIPs[a.Unmap()] = true
		} else if addrs, err := net.LookupHost(host); err == nil {
			for _, s := range addrs {
				if a, err := netip.ParseAddr(s); err == nil {
					h.peerIPs[a.Unmap()] = true
				}
			}
		}
	}
	var err error
	if len(ms) > 0 {
		if h.ptab, err = cluster.New(ms); err != nil {
			return nil, keyError("cluster.peers", err)
		}
	}
	ms = ms[:0]
	for _, p := range cfg.Upstream.Parents {
		m := &member{kind: hopParent, name: p.Name, addr: p.Address, key: "parent " + p.Name}
		if p.Username != "" {
			m.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(p.Username+":"+p.Password))
		}
		m.up.Store(true)
		m.since.Store(now)
		h.parents = append(h.parents, m)
		h.keys[m.key] = m
		ms = append(ms, cluster.Member{Name: p.Name, Weight: p.Weight})
	}
	if len(ms) > 0 {
		if h.atab, err = cluster.New(ms); err != nil {
			return nil, keyError("upstream.parents", err)
		}
	}
	h.peerUp = func(i int) bool { return i == h.self || h.peers[i].up.Load() }
	h.parentUp = func(i int) bool { return h.parents[i].up.Load() }
	return h, nil
}

// byKey returns the member whose pool key is key, or nil.
func (h *hops) byKey(key string) *member {
	if h == nil {
		return nil
	}
	return h.keys[key]
}

// next is the member a request for key goes to, or nil for its origin
// (or, for a URL this node owns, its cache). It allocates nothing.
func (h *hops) next(key []byte, fromPeer bool) (*member, error) {
	if h == nil {
		return nil, nil
	}
	if h.ptab != nil && !fromPeer {
		if i := h.ptab.Owner(key, h.peerUp); i >= 0 && i != h.self {
			return h.peers[i], nil
		}
	}
	return h.parentFor(key)
}

// parentFor is the parent a request for key goes through, nil to go
// direct, or ErrNoParent when none is up and never_direct forbids direct.
func (h *hops) parentFor(key []byte) (*member, error) {
	if h == nil || h.atab == nil {
		return nil, nil
	}
	if i := h.atab.Owner(key, h.parentUp); i >= 0 {
		return h.parents[i], nil
	}
	if h.neverDirect {
		return nil, ErrNoParent
	}
	return nil, nil
}

// isFromPeer reports whether r was forwarded by another node of the
// cluster: a Via member's received-by is a peer's name. (A node forwarding
// to a peer writes its own name, cluster.self by default, into Via.) A
// client that forges it only gets its request served where it arrived.
func (h *hops) isFromPeer(r *codec.Request) bool {
	if h == nil || len(h.names) == 0 {
		return false
	}
	return viaReceivedBy(r, func(by []byte) bool { return h.names[string(by)] })
}

// trusted reports whether a is the address of a peer, whose PURGE is
// carried out like one from acl.admin_file.
func (h *hops) trusted(a netip.Addr) bool {
	return h != nil && h.peerIPs[a.Unmap()]
}

// nextHop routes a forward-proxy http request (intercepted ones go to
// their original destination): a route when another live peer owns its
// URL, nil otherwise, or ErrNoParent when it could not leave at all. The
// cache key is left in the loop's key scratch, where the lookup writes it
// again. Only a route to a peer allocates: hits allocate nothing, and a
// miss picks its parent later (hopOnLoop, doForward).
func (cc *clientConn) nextHop(r *codec.Request) (*hopRoute, error) {
	h := cc.s.hops
	if h == nil || cc.route().set {
		return nil, nil
	}
	key := cache.AppendKey(cc.l.hit.key[:0], r)
	cc.l.hit.key = key
	fromPeer := h.isFromPeer(r)
	if fromPeer {
		h.fromPeer.Add(1)
	}
	m, err := h.next(key, fromPeer)
	if err != nil || m == nil || m.kind != hopPeer {
		return nil, err
	}
	return &hopRoute{m: m, key: bytes.Clone(key), fromPeer: fromPeer}, nil
}

// hopOnLoop turns an exchange prepared for the loop's origin client towards
// its peer, or the parent its URL hashes to: the same head with an
// absolute-form target (RFC 9112 §3.2.2), the normalised URL that was
// hashed, and the parent's credentials.
func (ex *exchange) hopOnLoop(r *codec.Request) {
	h := ex.s.hops
	if h == nil || ex.ohead == nil || ex.route.set {
		return
	}
	if ex.hop == nil {
		if h.atab == nil {
			return
		}
		key := cache.AppendKey(nil, r)
		m, _ := h.parentFor(key)
		if m == nil {
			return
		}
		ex.hop = &hopRoute{m: m, key: key, fromPeer: h.isFromPeer(r)}
	}
	hr := ex.hop
	hr.origin, hr.head = ex.oaddr, absoluteHead(ex.ohead, hr.key)
	ex.aim(hr.m)
}

// aim points the loop exchange at m, or at the origin when m is nil.
func (ex *exchange) aim(m *member) {
	hr := ex.hop
	hr.m = m
	switch {
	case m == nil:
		ex.oaddr, ex.ohead = hr.origin, hr.head
		return
	default:
		ex.ohead = withCredentials(hr.head, m.auth)
	}
	ex.oaddr = m.key
	m.requests.Add(1)
}

// failover moves a loop exchange whose peer or parent could not be reached
// to the next member in rendezvous order (the failed one is down now), or
// to the origin when that is where the order ends, on the same pool. A
// route that began at a parent stays among the parents. It reports whether
// the exchange goes on.
func (ex *exchange) failover(err error, pool *origin.Pool) bool {
	hr := ex.hop
	if hr == nil || hr.m == nil || hr.head == nil || ex.headSent || (ex.cc != nil && ex.cc.closed) ||
		!errors.Is(err, ErrHopUnreachable) {
		return false
	}
	h := ex.s.hops
	hr.tries++
	if hr.tries > len(h.peers)+len(h.parents) {
		return false
	}
	var m *member
	var nerr error
	if hr.m.kind == hopParent {
		m, nerr = h.parentFor(hr.key)
	} else {
		m, nerr = h.next(hr.key, hr.fromPeer)
	}
	if nerr != nil {
		return false
	}
	h.failover.Add(1)
	ex.aim(m)
	ex.oex.Addr, ex.oex.Head = ex.oaddr, ex.ohead
	pool.Do(&ex.oex)
	return true
}

// dial connects to a peer or parent. A failure marks it down and is
// reported as ErrHopUnreachable, which moves the request to the next one.
func (h *hops) dial(m *member, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", m.addr, timeout)
	if err != nil {
		m.failures.Add(1)
		h.setUp(m, false)
		return nil, errors.Join(ErrHopUnreachable, err)
	}
	return c, nil
}

// setUp records m's health.
func (h *hops) setUp(m *member, up bool) {
	if m.up.Swap(up) != up {
		m.since.Store(time.Now().Unix())
	}
}

// purgeAtOwner sends a PURGE for a URL another live peer owns on to that
// peer, after dropping any copy here (one stored while the owner was down).
// The owner's answer is the client's. ok is false when this node is the
// owner or the PURGE came from a peer: purge carries it out here.
func (cc *clientConn) purgeAtOwner(r *codec.Request, n int) (gnet.Action, bool) {
	if cc.s.hops == nil || cc.s.hops.ptab == nil || !codec.EqualFold(r.Scheme, "http") {
		return gnet.None, false
	}
	hop, err := cc.nextHop(r)
	if err != nil || !hop.toPeer() {
		return gnet.None, false
	}
	if cc.s.cache != nil {
		cc.s.invalidate(hop.key)
	}
	ex := cc.s.newExchange(cc, r)
	ex.hop = hop
	cc.prepareOnLoop(ex, r)
	if ex.ohead == nil {
		return gnet.None, false
	}
	ex.buildRequest(r) // the (empty) body comes from it
	return cc.start(ex, r, n, nil), true
}

// hasParents reports whether upstream.parents are configured: exchanges then
// reach their origins through a parent (hopOnLoop on the loop, runViaParent
// on a worker).
func (s *Server) hasParents() bool { return s.hops != nil && s.hops.atab != nil }
