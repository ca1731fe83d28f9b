package engine

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"edgeproxy/engine/config"
)

// Admin is the admin listener, on its own address (127.0.0.1:9128 by
// default) so it is never exposed with the proxy port: /metrics (Prometheus
// text format), /stats (JSON, with per-client and per-user accounting),
// POST /stats/reset, /healthz, POST /reload and /debug/pprof/.
type Admin struct {
	srv *http.Server
	ln  net.Listener
}

// NewAdmin starts the admin listener on addr, or returns a no-op Admin when
// addr is "off".
func NewAdmin(s *Server, addr string) (*Admin, error) {
	if addr == config.AdminOff {
		return &Admin{}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	// No request through the proxy port may reach this listener, whatever
	// acl.allow_local_destinations says.
	if err := s.addSelf(ln.Addr().String()); err != nil {
		_ = ln.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if s.draining.Load() {
			http.Error(w, "draining", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		if err := s.stats.WritePrometheus(w); err != nil {
			s.log.Warn("metrics", "err", err)
		}
		if err := s.hops.writePrometheus(w); err != nil {
			s.log.Warn("metrics", "err", err)
		}
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		extra := map[string]any{"name": s.set.name, "uptime_seconds": int64(time.Since(s.start).Seconds())}
		if s.cache != nil {
			extra["cache"] = s.cache.Stats()
		}
		if s.disk != nil {
			extra["disk"] = s.disk.stats()
		}
		if s.hops != nil {
			extra["cluster"] = s.hops.stats()
		}
		if err := s.LastReload(); err != nil {
			extra["last_reload_error"] = err.Error()
		}
		_ = s.stats.WriteJSON(w, extra)
	})
	mux.HandleFunc("POST /stats/reset", func(w http.ResponseWriter, _ *http.Request) {
		s.stats.ResetAccounts()
		_, _ = w.Write([]byte("accounting reset\n"))
	})
	mux.HandleFunc("POST /reload", func(w http.ResponseWriter, _ *http.Request) {
		restart, err := s.ReloadKeys()
		if err != nil {
			http.Error(w, "reload refused, previous configuration in force: "+err.Error(), http.StatusUnprocessableEntity)
			return
		}
		if len(restart) > 0 {
			_, _ = fmt.Fprintf(w, "configuration reloaded, but these changed keys keep their old values until edgeproxy is restarted: %s\n",
				strings.Join(restart, ", "))
			return
		}
		_, _ = w.Write([]byte("configuration reloaded\n"))
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	a := &Admin{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln: ln}
	go func() {
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("admin listener stopped", "err", err)
		}
	}()
	return a, nil
}

// Addr is the address the admin listener is bound to, or "" when off.
func (a *Admin) Addr() string {
	if a.ln == nil {
		return ""
	}
	return a.ln.Addr().String()
}

// Close stops the admin listener.
func (a *Admin) Close() error {
	if a.srv == nil {
		return nil
	}
	return a.srv.Close()
}
