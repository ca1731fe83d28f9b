package engine

import (
	"fmt"
	"net"
	"runtime"
	"time"

	"edgeproxy/codec"
	"edgeproxy/engine/config"
)

// settings is the configuration in the shape the hot path reads it.
type settings struct {
	listen       string
	name         string
	loops        int
	workers      int
	hashWorkers  int // auth.hash_workers, resolved
	forwardedFor config.ForwardedFor
	underscores  bool // forward header fields whose name holds "_"
	limits       codec.Limits
	maxConns     int
	maxBody      int // request bodies up to this size are buffered before forwarding
	maxPipeline  int
	tunnelPorts  [65536 / 64]uint64 // bit set of CONNECT ports

	clientHeader time.Duration
	idle         time.Duration
	drain        time.Duration
	origin       originTimeouts
	schemes      schemeSettings

	// Per client address (clients.go): connections open, workers held.
	maxConnsPerClient   int // 0: no limit
	maxWorkersPerClient int
	// A streamed request body gets bodyWindow, then must keep minBodyRate.
	bodyWindow  time.Duration
	minBodyRate int64
	quickAbort  quickAbort // for fetches whose client went away
}

// watermark is how much response data gnet may hold for one client before the
// worker feeding it waits; chunk is how much a worker reads from an origin at a
// time. Memory per slow client is bounded by about watermark + 2*chunk.
const (
	watermark = 256 << 10
	chunk     = 64 << 10
)

func newSettings(cfg *config.Config) (*settings, error) {
	s := &settings{
		listen:       cfg.Listen,
		name:         cfg.Name,
		loops:        cfg.EventLoops,
		workers:      cfg.Workers,
		hashWorkers:  cfg.Auth.HashWorkers,
		forwardedFor: cfg.ForwardedFor,
		underscores:  cfg.UnderscoresInHeaders,
		limits: codec.Limits{
			MaxRequestLine: int(cfg.Limits.MaxRequestLine),
			MaxHeaderBytes: int(cfg.Limits.MaxHeaderBytes),
			MaxHeaders:     cfg.Limits.MaxHeaders,
		},
		maxConns:     cfg.Limits.MaxConnections,
		maxBody:      int(cfg.Limits.MaxBodyBuffer),
		maxPipeline:  int(cfg.Limits.MaxPipeline),
		clientHeader: time.Duration(cfg.Timeouts.ClientHeader),
		idle:         time.Duration(cfg.Timeouts.KeepaliveIdle),
		drain:        time.Duration(cfg.Timeouts.Drain),
		origin: originTimeouts{
			connect:   time.Duration(cfg.Timeouts.OriginConnect),
			firstByte: time.Duration(cfg.Timeouts.OriginFirstByte),
			idle:      time.Duration(cfg.Timeouts.OriginIdle),
		},
		schemes: schemeSettings{ftp: cfg.FTP, gopher: cfg.Gopher},

		maxConnsPerClient:   cfg.Limits.MaxConnectionsPerClient,
		maxWorkersPerClient: cfg.Limits.MaxWorkersPerClient,
		bodyWindow:          time.Duration(cfg.Timeouts.ClientBody),
		minBodyRate:         int64(cfg.Limits.MinBodyRate),
		quickAbort:          quickAbort{min: 16 << 10, max: 16 << 10, pct: 95}, // Squid's
	}
	if q := &cfg.Cache; q.QuickAbortMin != nil && q.QuickAbortMax != nil && q.QuickAbortPct != nil {
		s.quickAbort = quickAbort{min: int64(*q.QuickAbortMin), max: int64(*q.QuickAbortMax), pct: int64(*q.QuickAbortPct)}
	}
	// Defaults for a config that did not go through Validate.
	if s.maxWorkersPerClient <= 0 {
		s.maxWorkersPerClient = max(s.workers/4, 1) // limits.max_workers_per_client's default
	}
	if s.bodyWindow <= 0 {
		s.bodyWindow = 20 * time.Second
	}
	if s.minBodyRate <= 0 {
		s.minBodyRate = 500
	}
	if s.loops <= 0 {
		s.loops = runtime.GOMAXPROCS(0)
	}
	if s.hashWorkers <= 0 {
		s.hashWorkers = max(1, runtime.GOMAXPROCS(0)/2)
	}
	for _, p := range *cfg.Tunnel.AllowedPorts {
		if p <= 0 || p > 65535 {
			return nil, fmt.Errorf("engine: tunnel port %d out of range", p)
		}
		s.tunnelPorts[p/64] |= 1 << (p % 64)
	}
	return s, nil
}

// tunnelAllowed reports whether CONNECT may reach port.
func (s *settings) tunnelAllowed(port int) bool {
	return port > 0 && port < 65536 && s.tunnelPorts[port/64]&(1<<(port%64)) != 0
}

// resolvePort replaces a listen port of 0 with a free port. Each event loop
// binds its own SO_REUSEPORT listener, and port 0 would give each loop a
// different port; one port is chosen first instead.
func (s *settings) resolvePort() error {
	host, port, err := net.SplitHostPort(s.listen)
	if err != nil {
		return fmt.Errorf("engine: listen %q: %w", s.listen, err)
	}
	if port != "0" {
		return nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return fmt.Errorf("engine: listen %q: %w", s.listen, err)
	}
	s.listen = ln.Addr().String()
	return ln.Close()
}
