package config

import (
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"
)

// Cluster makes several edgeproxy nodes one cache: every URL has one owner
// among the peers, chosen by CARP rendezvous hashing, and a miss on any other
// node is forwarded to the owner, which fetches and stores it.
type Cluster struct {
	// Self is the name of this node's entry in Peers. Required when Peers is
	// set; it is also the default of the top-level name, so that Via and
	// X-Cache name the node as its peers know it.
	Self string `yaml:"self"`
	// Peers lists every node of the cluster, this one included, with the
	// same names, addresses and weights on every node. If empty, the node
	// works alone.
	Peers []Peer `yaml:"peers"`
	// ProbeInterval is how often each peer and parent is probed. If zero,
	// 2s is used.
	ProbeInterval Duration `yaml:"probe_interval"`
	// ProbeTimeout bounds one probe, connect and answer. If zero, 1s is used.
	ProbeTimeout Duration `yaml:"probe_timeout"`
}

// Peer is one node of cluster.peers.
type Peer struct {
	// Name identifies the node in the hash: renaming it moves its URLs. An
	// HTTP token (it appears in Via). Required and unique.
	Name string `yaml:"name"`
	// Address is the node's proxy listener, host:port. Required. Peers are
	// chosen by the operator, so loopback and private addresses are allowed
	// here whatever acl.allow_local_destinations says.
	Address string `yaml:"address"`
	// Weight is the node's relative share of URLs, above 0. If zero, 1 is
	// used.
	Weight float64 `yaml:"weight"`
}

// Upstream configures parent proxies: edgeproxy forwards its requests
// (cache fills, pass-through requests, CONNECT) through them instead of
// going to origins itself, as Squid's cache_peer ... parent.
type Upstream struct {
	// Parents are the parent proxies; each request goes to the one that
	// CARP hashing picks among those up. If empty, origins are reached
	// directly.
	Parents []Parent `yaml:"parents"`
	// NeverDirect forbids going to an origin directly when no parent is
	// up: the request gets 503, as with Squid's never_direct allow all. If
	// nil, true is used when parents are set: in the usual corporate case
	// the firewall lets only the parent out, and a direct attempt would
	// only wait for its timeout. Set it to false to fall back to direct.
	NeverDirect *bool `yaml:"never_direct"`
}

// Parent is one entry of upstream.parents.
type Parent struct {
	// Name identifies the parent in the hash and in logs and metrics.
	// Required and unique.
	Name string `yaml:"name"`
	// Address is the parent's proxy port, host:port. Required; exempt from
	// the local-destination rule like cluster peers.
	Address string `yaml:"address"`
	// Weight is the parent's relative share of URLs, above 0. If zero, 1 is
	// used.
	Weight float64 `yaml:"weight"`
	// Username and Password are sent to the parent as Basic credentials
	// (Proxy-Authorization). If Username is empty, none are sent.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

// validateCluster checks cluster.*, upstream.* and pac.cluster. It runs
// before the top-level name gets its default, which is cluster.self.
func (c *Config) validateCluster() error {
	k := &c.Cluster
	if err := positive("cluster.probe_interval", &k.ProbeInterval, Duration(2*time.Second)); err != nil {
		return err
	}
	if err := positive("cluster.probe_timeout", &k.ProbeTimeout, Duration(time.Second)); err != nil {
		return err
	}
	if len(k.Peers) == 0 {
		if k.Self != "" {
			return invalid("cluster.self", "%q is set but cluster.peers is empty", k.Self)
		}
		if c.PAC.Cluster {
			return invalid("pac.cluster", "needs cluster.peers")
		}
	} else {
		if k.Self == "" {
			return invalid("cluster.self", "is required with cluster.peers: name this node's entry")
		}
		found := false
		names := map[string]bool{}
		for i := range k.Peers {
			p := &k.Peers[i]
			key := fmt.Sprintf("cluster.peers[%d]", i)
			if err := checkHop(key, p.Name, p.Address, &p.Weight, names); err != nil {
				return err
			}
			found = found || p.Name == k.Self
		}
		if !found {
			return invalid("cluster.self", "%q is not the name of an entry of cluster.peers", k.Self)
		}
		if c.Name == "" {
			c.Name = k.Self
		}
	}
	u := &c.Upstream
	names := map[string]bool{}
	for i := range u.Parents {
		p := &u.Parents[i]
		key := fmt.Sprintf("upstream.parents[%d]", i)
		if err := checkHop(key, p.Name, p.Address, &p.Weight, names); err != nil {
			return err
		}
		if strings.ContainsAny(p.Username, ":\r\n") || strings.ContainsAny(p.Password, "\r\n") {
			return invalid(key, "username may not hold a colon, and neither may hold a line break")
		}
		if p.Password != "" && p.Username == "" {
			return invalid(key+".username", "is required with a password")
		}
	}
	if u.NeverDirect == nil {
		u.NeverDirect = new(len(u.Parents) > 0)
	}
	if *u.NeverDirect && len(u.Parents) == 0 {
		return invalid("upstream.never_direct", "is true but upstream.parents is empty: no request could leave")
	}
	return nil
}

// checkHop checks the name, address and weight of a peer or parent.
func checkHop(key, name, addr string, weight *float64, seen map[string]bool) error {
	if !validName(name) {
		return invalid(key+".name", "%q is not a token (letters, digits and !#$%%&'*+-.^_`|~, no spaces)", name)
	}
	if seen[name] {
		return invalid(key+".name", "%q is used twice", name)
	}
	seen[name] = true
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return invalid(key+".address", "%q is not host:port (write 10.0.0.2:3128)", addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return invalid(key+".address", "%q: port %q is not a number from 1 to 65535", addr, port)
	}
	if !validHost(host) {
		return invalid(key+".address", "%q: %q is not an IP address or host name", addr, host)
	}
	if *weight == 0 {
		*weight = 1
	}
	if !(*weight > 0) || math.IsInf(*weight, 0) {
		return invalid(key+".weight", "%g is not a positive number", *weight)
	}
	return nil
}
