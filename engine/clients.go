package engine

import (
	"net/netip"
	"sync"

	"github.com/cespare/xxhash/v2"
)

// clientShards spreads the per-address table over independent locks.
const clientShards = 32

// clientTable counts, per client address, the connections open and the
// workers held (limits.max_connections_per_client and
// limits.max_workers_per_client), so that one address cannot take the
// proxy's connections or workers from the others. Only connection opens and
// closes and worker hand-offs touch it, never a cache hit. An address is
// forgotten when both of its counts are zero, so the table holds only the
// addresses active now.
type clientTable struct {
	shards [clientShards]clientShard
}

type clientShard struct {
	mu sync.Mutex // guards m
	m  map[netip.Addr]*clientCount
}

type clientCount struct {
	conns, workers int
}

func newClientTable() *clientTable {
	t := &clientTable{}
	for i := range t.shards {
		t.shards[i].m = make(map[netip.Addr]*clientCount)
	}
	return t
}

func (t *clientTable) shard(a netip.Addr) *clientShard {
	b := a.As16()
	return &t.shards[xxhash.Sum64(b[:])%clientShards]
}

// add changes a's counts by dc connections and dw workers, unless that would
// take a count past its limit (0: none): then nothing changes and add
// reports false. Decrements always succeed.
func (t *clientTable) add(a netip.Addr, dc, dw, maxConns, maxWorkers int) bool {
	s := t.shard(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.m[a]
	if n == nil {
		if dc <= 0 && dw <= 0 {
			return true
		}
		n = &clientCount{}
		s.m[a] = n
	}
	if (dc > 0 && maxConns > 0 && n.conns+dc > maxConns) || (dw > 0 && maxWorkers > 0 && n.workers+dw > maxWorkers) {
		if n.conns == 0 && n.workers == 0 {
			delete(s.m, a)
		}
		return false
	}
	n.conns += dc
	n.workers += dw
	if n.conns <= 0 && n.workers <= 0 {
		delete(s.m, a)
	}
	return true
}

// openConn counts a new connection from a; false when a is at
// limits.max_connections_per_client.
func (s *Server) openConn(a netip.Addr) bool {
	return s.clients.add(a, 1, 0, s.set.maxConnsPerClient, 0)
}

// closeConn ends what openConn counted: the client count of a and the
// proxy's total.
func (s *Server) closeConn(a netip.Addr) {
	s.clients.add(a, -1, 0, 0, 0)
	s.conns.Add(-1)
}

// submit runs job on a worker charged to client a: ErrClientWorkers when a
// already holds limits.max_workers_per_client workers, the pool's error
// when every worker is busy. The charge ends when job returns.
func (s *Server) submit(a netip.Addr, job func()) error {
	if !s.clients.add(a, 0, 1, 0, s.set.maxWorkersPerClient) {
		return ErrClientWorkers
	}
	err := s.pool.Submit(func() {
		defer s.clients.add(a, 0, -1, 0, 0)
		job()
	})
	if err != nil {
		s.clients.add(a, 0, -1, 0, 0)
	}
	return err
}
