package engine

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/ants/v2"
	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/fasthttp"

	"edgeproxy/cache"
	"edgeproxy/cache/admission"
	"edgeproxy/engine/accesslog"
	"edgeproxy/engine/acl"
	"edgeproxy/engine/auth"
	"edgeproxy/engine/config"
	"edgeproxy/engine/metrics"
	"edgeproxy/engine/origin"
)

// Server is a running forward proxy. Create it with New, run it with Serve,
// stop it with Shutdown.
type Server struct {
	gnet.BuiltinEventEngine

	cfg    *config.Config // as started; a reload compares the file with it
	set    *settings
	log    *slog.Logger
	cache  *cache.Cache      // nil when cache.enabled is false
	disk   *diskTier         // nil without cache.dirs
	alog   *accesslog.Writer // nil when log.path is off
	stats  *metrics.Registry
	ahead  *refreshAhead // nil when refresh_ahead is off or there is no cache
	pf     *prefetcher   // nil when prefetch is off or there is no cache
	pol    atomic.Pointer[policy]
	dialer *fasthttp.TCPDialer // connects to checked addresses for dest
	dest   *acl.Dialer         // resolves, checks and dials every destination: origin fetches and tunnels
	pool   *ants.Pool          // origin fetches, uploads and tunnels; bounded by workers

	originCfg origin.Config // shared by every loop's origin pool
	// direct runs the cache-free fetches a loop cannot carry (TLS, tproxy,
	// streamed uploads) on workers; tlsBase is the TLS configuration its
	// https:// connections start from.
	direct      *origin.Client
	tlsBase     *tls.Config
	originStats origin.Stats
	hashes      *hashPool // costly password checks, apart from pool
	// authLimit counts failed authentications per client address; it
	// outlives reloads, so a reload does not reset the lock-outs.
	authLimit *auth.Limiter

	clients *clientTable // connections and workers per client address (limits.*_per_client)

	eng     gnet.Engine
	ready   chan struct{} // closed when the event loops run
	stopped chan struct{} // closed when Serve returns
	start   time.Time

	loopsMu sync.Mutex // protects loops, order and next
	loops   map[gnet.EventLoop]*loop
	order   []*loop // the loops in the order they started, for pickLoop
	next    int     // the loop pickLoop takes next

	pinCPUs []int           // CPUs to pin event loops to, in order; nil for no pinning
	pin     func(int) error // pins the calling OS thread to a CPU

	conns    atomic.Int64 // open client connections, attached or detached
	inflight atomic.Int64 // exchanges and tunnels in progress
	draining atomic.Bool

	reloadMu   sync.Mutex // serialises reloads; protects cfgPath, loadCfg and lastReload
	cfgPath    string
	loadCfg    func() (*config.Config, error) // nil: config.Load(cfgPath)
	lastReload error

	selfMu sync.Mutex // protects self
	self   []string   // the proxy's own listener addresses: listeners, admin

	icpt *interceptState // listener modes, tproxy listeners, Host verification (issue 15)

	hops *hops // cluster peers and parent proxies (issue 14); nil without either
}

// New checks cfg and builds a Server; nothing listens until Serve.
//
// Every error about a value of cfg is a *config.Error naming its key, and
// the file and line of a file that key names; its File is empty, for the
// caller to fill in with the configuration file's name.
func New(cfg *config.Config, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	st, err := prepare(cfg, log)
	if err != nil {
		return nil, err
	}
	set := st.set
	icpt := newInterceptState(cfg, set)
	listen := set.listen
	if err := set.resolvePort(); err != nil {
		return nil, err
	}
	icpt.fix(listen, set.listen)
	dialer := &fasthttp.TCPDialer{
		Concurrency: 4096, // parallel dials; beyond this dials queue
	}
	// Names are resolved once, by dest, whose answers are reused for 30s;
	// the TCP dialer only ever sees the checked IP address.
	dest := &acl.Dialer{Resolver: &acl.Resolver{TTL: 30 * time.Second}, Dial: dialer.DialDualStackTimeout}
	pool, err := ants.NewPool(set.workers,
		ants.WithNonblocking(true), // a full pool answers 503 at once, never queues
		ants.WithExpiryDuration(10*time.Second),
		ants.WithPanicHandler(func(v any) { log.Error("worker panic", "panic", v) }),
	)
	if err != nil {
		return nil, fmt.Errorf("engine: worker pool: %w", err)
	}
	var c *cache.Cache
	var admit *admission.Policy
	if *cfg.Cache.Enabled {
		admit, err = admission.NewPolicy(admission.Config{
			Enabled:  *cfg.Cache.Admission,
			Capacity: int64(cfg.Cache.Memory) + int64(cfg.Cache.LargeMemory),
		})
		if err != nil {
			return nil, fmt.Errorf("cache.admission: %w", err)
		}
		heuristic := *cfg.Cache.HeuristicPercent
		if heuristic == 0 {
			heuristic = -1 // 0 in the file turns heuristic freshness off
		}
		policy := cache.PolicyEdge
		if cfg.Cache.Policy == config.CachePolicyLRU {
			policy = cache.PolicyLRU
		}
		var rules []cache.RefreshRule
		for i := range cfg.Cache.RefreshRules {
			r := &cfg.Cache.RefreshRules[i]
			re, err := r.Regexp()
			if err != nil {
				return nil, fmt.Errorf("cache.refresh_rules[%d].pattern: %w", i, err)
			}
			rules = append(rules, cache.RefreshRule{Pattern: re, Min: r.Min.Std(), Max: r.Max.Std(), Percent: r.Percent, Immutable: r.Immutable})
		}
		c = cache.New(cache.Options{
			Policy:           policy,
			RefreshRules:     rules,
			Memory:           int64(cfg.Cache.Memory),
			LargeMemory:      int64(cfg.Cache.LargeMemory),
			MaxObject:        int64(cfg.Cache.MaxObject),
			HeuristicPercent: heuristic,
			HeuristicMax:     time.Duration(cfg.Cache.HeuristicMax),
			Admission:        admit,
		})
	}
	srv := &Server{
		cfg:     cfg,
		cache:   c,
		set:     set,
		log:     log,
		dialer:  dialer,
		dest:    dest,
		pool:    pool,
		clients: newClientTable(),
		ready:   make(chan struct{}),
		stopped: make(chan struct{}),
		start:   time.Now(),
		loops:   make(map[gnet.EventLoop]*loop),
		icpt:    icpt,
	}
	if srv.hops, err = newHops(cfg); err != nil {
		return nil, err
	}
	srv.originCfg = srv.newOriginConfig(int(cfg.Limits.MaxResponseHeader))
	srv.direct = origin.NewClient(srv.originCfg)
	srv.tlsBase = newTLSBase()
	srv.pol.Store(st.pol)
	srv.self = srv.listenerAddrs()
	if cfg.Admin != config.AdminOff && !strings.HasSuffix(cfg.Admin, ":0") {
		srv.self = append(srv.self, cfg.Admin)
	}
	if err := srv.setDestinations(cfg.ACL.AllowLocalDestinations); err != nil {
		return nil, err
	}
	if c != nil {
		load := func() float64 { return float64(srv.inflight.Load()) / float64(set.workers) }
		srv.ahead = newRefreshAhead(&cfg.RefreshAhead, load)
		if srv.pf, err = newPrefetcher(srv, &cfg.Prefetch, int64(cfg.Cache.MaxObject), load); err != nil {
			return nil, fmt.Errorf("prefetch: %w", err)
		}
	}
	srv.stats = metrics.New()
	srv.stats.SetCollector(srv.collect)
	if cfg.Log.Path != config.LogOff {
		if srv.alog, err = accesslog.Open(cfg.Log.Path, st.format); err != nil {
			return nil, keyError("log.path", err)
		}
	}
	if c != nil && len(cfg.Cache.Dirs) > 0 {
		if srv.disk, err = openDisk(cfg.Cache.Dirs, log); err != nil {
			return nil, err
		}
	}
	srv.authLimit = auth.NewLimiter(cfg.Auth.MaxFailures, cfg.Auth.FailureWindow.Std())
	srv.hashes = newHashPool(set.hashWorkers, cfg.Auth.HashQueue)
	return srv, nil
}

// PinLoops makes each event loop lock its OS thread and pin it with pin to
// the next of cpus (engine.pin_cpus). Call it before Serve.
func (s *Server) PinLoops(cpus []int, pin func(cpu int) error) {
	if len(cpus) > 0 && pin != nil {
		s.pinCPUs, s.pin = cpus, pin
	}
}

// Serve listens on the configured address and runs the event loops until
// Shutdown. It returns the error that stopped it, nil after Shutdown.
func (s *Server) Serve() error {
	if s.pf != nil {
		go s.pf.run()
		defer s.pf.close()
	}
	if err := s.openTransparent(); err != nil {
		close(s.stopped)
		return err
	}
	if s.hops != nil {
		stop := make(chan struct{})
		go s.hops.probeLoop(stop, s.log)
		defer close(stop)
	}
	err := gnet.Rotate(s, s.gnetAddrs(),
		gnet.WithLockOSThread(s.pinCPUs != nil),
		gnet.WithNumEventLoop(s.set.loops),
		gnet.WithReusePort(true),
		gnet.WithTicker(true),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithReadBufferCap(64<<10),
		gnet.WithWriteBufferCap(64<<10),
		gnet.WithLogger(gnetLogger{s.log}),
	)
	s.closeTransparent()
	close(s.stopped)
	s.pool.Release()
	s.hashes.close()
	if s.disk != nil {
		s.disk.close()
	}
	if s.alog != nil {
		_ = s.alog.Close()
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Ready is closed once the event loops accept connections.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr is the address Serve listens on.
func (s *Server) Addr() string { return s.set.listen }

// Shutdown stops the proxy gracefully: new connections are refused, idle
// ones closed, and in-flight requests and tunnels get until ctx expires (or
// timeouts.drain, whichever is first) to finish; then everything closes.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	ctx, cancel := context.WithTimeout(ctx, s.set.drain)
	defer cancel()
	s.sweepAll()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for s.inflight.Load() > 0 {
		select {
		case <-ctx.Done():
			s.log.Warn("drain timeout: closing with requests in flight", "inflight", s.inflight.Load())
			return s.stop()
		case <-tick.C:
		}
	}
	return s.stop()
}

func (s *Server) stop() error {
	defer s.direct.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	select {
	case <-s.ready:
	default:
		return nil
	}
	return s.eng.Stop(ctx)
}

// SetVersion names the running build in edgeproxy_build_info.
func (s *Server) SetVersion(version string) { s.stats.SetBuildInfo(version) }

// OnBoot keeps the engine handle and signals readiness.
func (s *Server) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	s.acceptTransparent()
	close(s.ready)
	return gnet.None
}

// OnOpen admits a client connection, or a detached one coming back.
func (s *Server) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	if act, ok := routeOpen(c); ok {
		return nil, act
	}
	l := s.loopOf(c)
	if back, ok := c.Context().(*clientConn); ok {
		back.attach(c, l)
		return nil, gnet.None
	}
	ic, _ := c.Context().(*interception) // a tproxy connection
	if s.draining.Load() {
		return nil, gnet.Close
	}
	addr := remoteAddr(c)
	if !s.pol.Load().clients.Permit(addr) {
		out := s.errorResponse(nil, ErrClientDenied, true, nil)
		s.logNoRequest(addr, 403, int64(len(out)), codeDenied, "error:client-denied")
		return out, gnet.Close
	}
	if s.conns.Add(1) > int64(s.set.maxConns) {
		s.conns.Add(-1)
		out := s.errorResponse(nil, ErrTooManyConns, true, nil)
		s.logNoRequest(addr, 503, int64(len(out)), codeNone, "error:too-many-connections")
		return out, gnet.Close
	}
	if !s.openConn(addr) {
		s.conns.Add(-1)
		out := s.errorResponse(nil, ErrClientConns, true, nil)
		s.logNoRequest(addr, 503, int64(len(out)), codeNone, "error:too-many-connections")
		return out, gnet.Close
	}
	cc := &clientConn{s: s, remote: addr}
	cc.icpt = s.interceptionOf(c, ic)
	cc.attach(c, l)
	return nil, gnet.None
}

// OnClose forgets a connection, unless it is being handed to a goroutine.
func (s *Server) OnClose(c gnet.Conn, _ error) gnet.Action {
	if routeClose(c) {
		return gnet.None
	}
	cc, ok := c.Context().(*clientConn)
	if !ok {
		return gnet.None
	}
	cc.detach()
	if cc.lex != nil {
		cc.closed = true
		cc.lex.abandon()
	}
	if cc.state != stDetached {
		cc.closed = true
		s.closeConn(cc.remote)
	}
	return gnet.None
}

// OnTraffic parses and answers what a connection has sent.
func (s *Server) OnTraffic(c gnet.Conn) gnet.Action {
	if act, ok := routeTraffic(c); ok {
		return act
	}
	cc, ok := c.Context().(*clientConn)
	if !ok {
		return gnet.Close
	}
	return cc.onTraffic()
}

// OnTick sweeps every loop for timed-out connections.
func (s *Server) OnTick() (time.Duration, gnet.Action) {
	s.icpt.markRunning()
	s.sweepAll()
	s.direct.Sweep()
	return sweepInterval, gnet.None
}

func (s *Server) loopOf(c gnet.Conn) *loop {
	el := c.EventLoop()
	s.loopsMu.Lock()
	defer s.loopsMu.Unlock()
	l := s.loops[el]
	if l == nil {
		l = newLoop(s, el)
		if s.pinCPUs != nil {
			// OnOpen runs on the loop's goroutine, locked to its thread: the
			// first connection a loop sees pins it.
			cpu := s.pinCPUs[len(s.loops)%len(s.pinCPUs)]
			if err := s.pin(cpu); err != nil {
				s.log.Warn("cannot pin event loop", "cpu", cpu, "err", err)
			} else {
				s.log.Info("event loop pinned", "cpu", cpu)
			}
		}
		s.loops[el] = l
		s.order = append(s.order, l)
	}
	return l
}

// pickLoop returns the event loops in turn, for background fetches that
// belong to no client; nil before any loop has seen a connection.
func (s *Server) pickLoop() *loop {
	s.loopsMu.Lock()
	defer s.loopsMu.Unlock()
	if len(s.order) == 0 {
		return nil
	}
	s.next = (s.next + 1) % len(s.order)
	return s.order[s.next]
}

func (s *Server) sweepAll() {
	s.loopsMu.Lock()
	loops := make([]*loop, 0, len(s.loops))
	for _, l := range s.loops {
		loops = append(loops, l)
	}
	s.loopsMu.Unlock()
	now := s.now()
	for _, l := range loops {
		_ = l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
			l.sweep(now)
			return nil
		}))
	}
}

// now is monotonic time since start, in nanoseconds.
func (s *Server) now() int64 { return int64(time.Since(s.start)) }

// gnetLogger routes gnet's own log lines to slog.
type gnetLogger struct{ l *slog.Logger }

func (g gnetLogger) Debugf(f string, a ...any) { g.l.Debug(fmt.Sprintf(f, a...)) }
func (g gnetLogger) Infof(f string, a ...any)  { g.l.Debug(fmt.Sprintf(f, a...)) }
func (g gnetLogger) Warnf(f string, a ...any)  { g.l.Warn(fmt.Sprintf(f, a...)) }
func (g gnetLogger) Errorf(f string, a ...any) { g.l.Error(fmt.Sprintf(f, a...)) }
func (g gnetLogger) Fatalf(f string, a ...any) { g.l.Error(fmt.Sprintf(f, a...)) }

// remoteAddr is the client's address; only valid on the loop.
func remoteAddr(c gnet.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}

// SetConfigPath names the file Reload reads; without one, Reload rebuilds
// the policy from the embedded defaults.
func (s *Server) SetConfigPath(path string) {
	s.reloadMu.Lock()
	s.cfgPath = path
	s.reloadMu.Unlock()
}

// SetConfigLoader makes Reload read the configuration with load instead of
// config.Load(path), so that the command line's overrides apply to the
// reloaded file as they did at start-up. SetConfigPath still names the file
// in errors.
func (s *Server) SetConfigLoader(load func() (*config.Config, error)) {
	s.reloadMu.Lock()
	s.loadCfg = load
	s.reloadMu.Unlock()
}

// Reload is ReloadKeys without the list of keys that need a restart.
func (s *Server) Reload() error {
	_, err := s.ReloadKeys()
	return err
}

// ReloadKeys reads the configuration file again and replaces the access
// lists, destination rules, password files and PAC domains (the keys acl.*,
// rules, auth.* and pac.*), without closing a connection. A reload whose
// files are invalid is refused: the policy in force stays, and the error is
// returned (and kept for LastReload). Every other key takes effect only at
// the next start: restart lists those whose value in the file differs from
// the running one, which keep their old value, and the log says so.
func (s *Server) ReloadKeys() (restart []string, err error) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	cfg := config.Default()
	switch {
	case s.loadCfg != nil:
		cfg, err = s.loadCfg()
	case s.cfgPath != "":
		cfg, err = config.Load(s.cfgPath)
	}
	var pol *policy
	if err == nil {
		if pol, err = buildPolicy(cfg, s.pol.Load()); err == nil {
			err = s.setDestinations(cfg.ACL.AllowLocalDestinations)
		}
	}
	var ce *config.Error
	if errors.As(err, &ce) && ce.File == "" {
		ce.File = s.cfgPath
	}
	s.lastReload = err
	if err != nil {
		s.log.Error("reload refused: the previous configuration stays in force", "err", err)
		return nil, err
	}
	s.pol.Store(pol)
	for _, w := range pol.warnings {
		s.log.Warn(w)
	}
	if s.cfg != nil {
		restart = restartKeys(s.cfg, cfg)
	}
	if len(restart) > 0 {
		s.log.Warn("configuration reloaded, but these changed keys keep their old values until a restart",
			"file", s.cfgPath, "restart_needed", strings.Join(restart, ", "))
	} else {
		s.log.Info("configuration reloaded", "file", s.cfgPath)
	}
	return restart, nil
}

// LastReload is the result of the latest Reload: nil if it succeeded or
// none ran.
func (s *Server) LastReload() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	return s.lastReload
}

// ReopenLog reopens the access log file, after logrotate moved it.
func (s *Server) ReopenLog() error {
	if s.alog == nil {
		return nil
	}
	return s.alog.Reopen()
}

// setDestinations puts the destination policy in force: loopback allowed or
// not, and the proxy's own listeners always refused. It reads this
// machine's interface addresses again, so a reload also sees new ones.
func (s *Server) setDestinations(allowLocal bool) error {
	s.selfMu.Lock()
	defer s.selfMu.Unlock()
	d, err := acl.NewDestinations(allowLocal, s.self, acl.MachineAddrs())
	if err != nil {
		return err
	}
	s.dest.SetPolicy(d)
	return nil
}

// addSelf adds a listener the proxy opened (the admin listener, once its
// port is known) to the addresses no request may reach.
func (s *Server) addSelf(addr string) error {
	s.selfMu.Lock()
	s.self = append(s.self, addr)
	allowLocal := s.dest.Policy().AllowLocal()
	s.selfMu.Unlock()
	return s.setDestinations(allowLocal)
}
