package metrics

import "sync/atomic"

// A Gauge is a value that goes up and down, such as a count of open
// connections. Its methods are safe for concurrent use and allocate
// nothing. A Gauge fills a cache line of its own so that loops updating
// different gauges do not slow each other down.
type Gauge struct {
	v atomic.Int64
	_ [56]byte
}

// Add adds d, which may be negative, to the gauge.
func (g *Gauge) Add(d int64) { g.v.Add(d) }

// Set replaces the gauge's value with v.
func (g *Gauge) Set(v int64) { g.v.Store(v) }

// Value returns the gauge's current value.
func (g *Gauge) Value() int64 { return g.v.Load() }

// ClientConns is the gauge of open client connections,
// edgeproxy_client_connections.
func (r *Registry) ClientConns() *Gauge { return &r.clientConns }

// OriginConns is the gauge of origin fetches in flight,
// edgeproxy_origin_fetches_in_flight; it stands in for open origin
// connections.
func (r *Registry) OriginConns() *Gauge { return &r.originConns }

// Tunnels is the gauge of open CONNECT tunnels, edgeproxy_tunnels.
func (r *Registry) Tunnels() *Gauge { return &r.tunnels }

// Workers is the gauge of busy workers, edgeproxy_workers_busy: how much of
// the worker pool's queue is occupied.
func (r *Registry) Workers() *Gauge { return &r.workers }
