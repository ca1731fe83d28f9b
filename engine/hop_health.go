package engine

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Health of peers and parents (issue 14). Every cluster.probe_interval each
// member is probed on its proxy port with a request any HTTP proxy answers
// itself, HEAD /proxy.pac in origin form (an edgeproxy node serves its PAC
// file; another proxy answers with an error status, which is an answer
// all the same): a status line within cluster.probe_timeout means up, no
// connection or no answer means down. Traffic marks a member down at once
// when its connection fails; only a probe brings it back.

// probeLoop probes every member until stop is closed.
func (h *hops) probeLoop(stop <-chan struct{}, log *slog.Logger) {
	tick := time.NewTicker(h.interval)
	defer tick.Stop()
	for {
		h.probeAll(log)
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}

// probeAll probes every member at once and waits for the answers.
func (h *hops) probeAll(log *slog.Logger) {
	var wg sync.WaitGroup
	for _, ms := range [][]*member{h.peers, h.parents} {
		for i, m := range ms {
			if m.kind == hopPeer && i == h.self {
				continue
			}
			wg.Go(func() {
				err := h.probe(m)
				up := err == nil
				if !up {
					m.failures.Add(1)
				}
				if was := m.up.Load(); was != up {
					h.setUp(m, up)
					log.Warn("next hop changed state", "kind", m.kindName(), "name", m.name, "address", m.addr, "up", up, "err", err)
				}
			})
		}
	}
	wg.Wait()
	h.rounds.Add(1)
}

// probe returns nil when m answers an HTTP request within the timeout.
func (h *hops) probe(m *member) error {
	c, err := net.DialTimeout("tcp", m.addr, h.timeout)
	if err != nil {
		return err
	}
	defer c.Close() //nolint:errcheck
	_ = c.SetDeadline(time.Now().Add(h.timeout))
	if _, err := io.WriteString(c, "HEAD /proxy.pac HTTP/1.1\r\nHost: "+m.addr+"\r\nConnection: close\r\n\r\n"); err != nil {
		return err
	}
	var line [12]byte
	if _, err := io.ReadFull(c, line[:]); err != nil {
		return err
	}
	if !bytes.HasPrefix(line[:], []byte("HTTP/1.")) || line[8] != ' ' {
		return fmt.Errorf("not an HTTP response: %q", line[:])
	}
	return nil
}

func (m *member) kindName() string {
	if m.kind == hopPeer {
		return "peer"
	}
	return "parent"
}

// writePrometheus appends the members' state and counters to /metrics.
func (h *hops) writePrometheus(w io.Writer) error {
	if h == nil {
		return nil
	}
	var b bytes.Buffer
	fam := func(name, typ, help string, v func(m *member) int64, ms []*member, label string, skipSelf bool) {
		if len(ms) == 0 {
			return
		}
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		for i, m := range ms {
			if skipSelf && i == h.self {
				continue
			}
			fmt.Fprintf(&b, "%s{%s=%q} %d\n", name, label, m.name, v(m))
		}
	}
	up := func(m *member) int64 {
		if m.up.Load() {
			return 1
		}
		return 0
	}
	reqs := func(m *member) int64 { return m.requests.Load() }
	fails := func(m *member) int64 { return m.failures.Load() }
	fam("edgeproxy_cluster_peer_up", "gauge", "Whether the cluster peer is up (1) or down (0), by its last probe or connection.", up, h.peers, "peer", true)
	fam("edgeproxy_cluster_peer_requests_total", "counter", "Requests forwarded to the cluster peer that owns their URL.", reqs, h.peers, "peer", true)
	fam("edgeproxy_cluster_peer_failures_total", "counter", "Failed connections and probes to the cluster peer.", fails, h.peers, "peer", true)
	fam("edgeproxy_upstream_parent_up", "gauge", "Whether the parent proxy is up (1) or down (0), by its last probe or connection.", up, h.parents, "parent", false)
	fam("edgeproxy_upstream_parent_requests_total", "counter", "Requests and tunnels sent through the parent proxy.", reqs, h.parents, "parent", false)
	fam("edgeproxy_upstream_parent_failures_total", "counter", "Failed connections and probes to the parent proxy.", fails, h.parents, "parent", false)
	if h.ptab != nil {
		fmt.Fprintf(&b, "# HELP edgeproxy_cluster_from_peer_requests_total Requests received from other cluster nodes, served here without another hop.\n"+
			"# TYPE edgeproxy_cluster_from_peer_requests_total counter\nedgeproxy_cluster_from_peer_requests_total %d\n", h.fromPeer.Load())
	}
	fmt.Fprintf(&b, "# HELP edgeproxy_next_hop_failovers_total Requests moved to the next peer or parent after a failed connection.\n"+
		"# TYPE edgeproxy_next_hop_failovers_total counter\nedgeproxy_next_hop_failovers_total %d\n", h.failover.Load())
	_, err := w.Write(b.Bytes())
	return err
}

// hopStats is one member in /stats.
type hopStats struct {
	Name     string `json:"name"`
	Address  string `json:"address"`
	Self     bool   `json:"self,omitempty"`
	Up       bool   `json:"up"`
	Since    int64  `json:"since_unix"`
	Requests int64  `json:"requests"`
	Failures int64  `json:"failures"`
}

// stats is the "cluster" object of /stats.
func (h *hops) stats() map[string]any {
	list := func(ms []*member, self int) []hopStats {
		out := make([]hopStats, 0, len(ms))
		for i, m := range ms {
			out = append(out, hopStats{Name: m.name, Address: m.addr, Self: i == self, Up: i == self || m.up.Load(),
				Since: m.since.Load(), Requests: m.requests.Load(), Failures: m.failures.Load()})
		}
		return out
	}
	out := map[string]any{
		"peers":              list(h.peers, h.self),
		"parents":            list(h.parents, -1),
		"from_peer_requests": h.fromPeer.Load(),
		"failovers":          h.failover.Load(),
		"never_direct":       h.neverDirect,
	}
	if h.self >= 0 {
		out["self"] = h.peers[h.self].name
	}
	return out
}
