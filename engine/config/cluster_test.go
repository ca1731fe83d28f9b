package config

import (
	"errors"
	"testing"
	"time"
)

const clusterYAML = `
cluster:
  self: b
  peers:
    - {name: a, address: "127.0.0.2:3128"}
    - {name: b, address: "127.0.0.3:3128", weight: 2}
upstream:
  parents:
    - {name: corp, address: "proxy.corp.example:8080", username: u, password: p}
pac:
  cluster: true
`

// Issue 14: cluster and upstream keys, their defaults, and name defaulting
// to cluster.self.
func TestClusterDefaults(t *testing.T) {
	c, err := Parse([]byte(clusterYAML), "edgeproxy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key       string
		got, want any
	}{
		{"name", c.Name, "b"},
		{"cluster.peers[0].weight", c.Cluster.Peers[0].Weight, 1.0},
		{"cluster.peers[1].weight", c.Cluster.Peers[1].Weight, 2.0},
		{"cluster.probe_interval", c.Cluster.ProbeInterval, Duration(2 * time.Second)},
		{"cluster.probe_timeout", c.Cluster.ProbeTimeout, Duration(time.Second)},
		{"upstream.never_direct", *c.Upstream.NeverDirect, true},
		{"upstream.parents[0].weight", c.Upstream.Parents[0].Weight, 1.0},
		{"pac.cluster", c.PAC.Cluster, true},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.key, tc.got, tc.want)
		}
	}
	if d := Default(); *d.Upstream.NeverDirect || len(d.Cluster.Peers) != 0 {
		t.Errorf("default: got never_direct %v and %d peers, want false and none", *d.Upstream.NeverDirect, len(d.Cluster.Peers))
	}
}

// Issue 14: a bad cluster or upstream key is refused at start-up, naming it.
func TestClusterRefused(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, key string
	}{
		{"self without peers", "cluster: {self: a}", "cluster.self"},
		{"peers without self", "cluster: {peers: [{name: a, address: '127.0.0.2:3128'}]}", "cluster.self"},
		{"self not a peer", "cluster: {self: c, peers: [{name: a, address: '127.0.0.2:3128'}]}", "cluster.self"},
		{"duplicate name", "cluster: {self: a, peers: [{name: a, address: '127.0.0.2:3128'}, {name: a, address: '127.0.0.3:3128'}]}", "cluster.peers[1].name"},
		{"name with a space", "cluster: {self: a, peers: [{name: 'a b', address: '127.0.0.2:3128'}]}", "cluster.peers[0].name"},
		{"no port", "cluster: {self: a, peers: [{name: a, address: '127.0.0.2'}]}", "cluster.peers[0].address"},
		{"port zero", "cluster: {self: a, peers: [{name: a, address: '127.0.0.2:0'}]}", "cluster.peers[0].address"},
		{"negative weight", "cluster: {self: a, peers: [{name: a, address: '127.0.0.2:3128', weight: -1}]}", "cluster.peers[0].weight"},
		{"pac without peers", "pac: {cluster: true}", "pac.cluster"},
		{"parent without address", "upstream: {parents: [{name: p}]}", "upstream.parents[0].address"},
		{"password without user", "upstream: {parents: [{name: p, address: 'p:8080', password: x}]}", "upstream.parents[0].username"},
		{"never_direct without parents", "upstream: {never_direct: true}", "upstream.never_direct"},
		{"zero probe timeout is the default, negative is not", "cluster: {probe_timeout: -1s}", "cluster.probe_timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "edgeproxy.yaml")
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *config.Error", err)
			}
			if ce.Key != tc.key {
				t.Errorf("got key %q, want %q (%v)", ce.Key, tc.key, err)
			}
		})
	}
}
