// Command edgeproxy is a forward HTTP caching proxy for the edge of a
// network.
//
//	edgeproxy [--config FILE] [--listen ADDR] [--admin ADDR]
//	edgeproxy check --config FILE
//	edgeproxy tune [--config FILE]
//	edgeproxy prefetch-report --log FILE [--config FILE] [--window N] [--threshold K]
//	edgeproxy --version
//
// Without --config it runs on its embedded defaults: clients from loopback
// and private ranges on 127.0.0.1:3128, an in-memory cache, the admin
// listener on 127.0.0.1:9128.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"edgeproxy/engine"
	"edgeproxy/engine/config"
	"edgeproxy/tuning"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main with its inputs and outputs explicit, so tests can drive it.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "check":
			return check(args[1:], stdout, stderr)
		case "tune":
			return tune(args[1:], stdout, stderr)
		case "prefetch-report":
			return prefetchReport(args[1:], stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("edgeproxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		configPath = fs.String("config", "", "YAML configuration `file` (default: embedded defaults)")
		listen     = fs.String("listen", "", "proxy listen `address`, overrides listen in the config")
		admin      = fs.String("admin", "", "admin and metrics listen `address`, or off; overrides admin")
		cacheMem   = fs.String("cache-mem", "", "in-memory cache `size`, e.g. 256MiB; overrides cache.memory")
		cacheLarge = fs.String("cache-large-mem", "", "large-object memory tier `size`, e.g. 1GiB; overrides cache.large_memory")
		showVer    = fs.Bool("version", false, "print the version and exit")
		debug      = fs.Bool("debug", false, "log at debug level")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *showVer {
		fmt.Fprintln(stdout, "edgeproxy", version)
		return 0
	}
	cfg, err := loadConfig(*configPath, overrides{listen: *listen, admin: *admin, cacheMem: *cacheMem, cacheLarge: *cacheLarge})
	if err != nil {
		fmt.Fprintln(stderr, "edgeproxy:", err)
		return 2
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	return serve(cfg, *configPath, log)
}

// overrides are the flags that replace config keys.
type overrides struct {
	listen, admin, cacheMem, cacheLarge string
}

// loadConfig reads the file (or the defaults), applies flag overrides and
// validates the result once more, so a bad flag is reported like a bad key.
func loadConfig(path string, o overrides) (*config.Config, error) {
	cfg := config.Default()
	if path != "" {
		var err error
		if cfg, err = config.Load(path); err != nil {
			return nil, err
		}
	}
	if o.listen != "" {
		cfg.Listen = o.listen
	}
	if o.admin != "" {
		cfg.Admin = o.admin
	}
	for _, s := range []struct {
		flag, val string
		dst       *config.Size
	}{{"--cache-mem", o.cacheMem, &cfg.Cache.Memory}, {"--cache-large-mem", o.cacheLarge, &cfg.Cache.LargeMemory}} {
		if s.val == "" {
			continue
		}
		size, err := config.ParseSize(s.val)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.flag, err)
		}
		*s.dst = size
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// check validates a configuration file and reports the result.
func check(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("edgeproxy check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "YAML configuration `file` to check")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *path == "" {
		fmt.Fprintln(stderr, "edgeproxy check: --config FILE is required")
		return 2
	}
	if _, err := config.Load(*path); err != nil {
		fmt.Fprintln(stderr, "edgeproxy check:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: configuration OK\n", *path)
	return 0
}

// tune prints the running kernel's settings and limits against what the
// configured load needs, each with its effect.
func tune(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("edgeproxy tune", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "YAML configuration `file` whose load to check (default: embedded defaults)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := loadConfig(*path, overrides{})
	if err != nil {
		fmt.Fprintln(stderr, "edgeproxy tune:", err)
		return 2
	}
	tuning.Report(stdout, tuning.Check(loadOf(cfg)))
	return 0
}

// loadOf is the load a configuration asks of the kernel.
func loadOf(cfg *config.Config) tuning.Load {
	return tuning.Load{MaxConnections: cfg.Limits.MaxConnections, EventLoops: cfg.EventLoops}
}

// memoryHeadroom is what the Go heap may use beyond the configured cache
// sizes before the collector works harder: buffers, connections, workers.
const memoryHeadroom = 0.25

// serve runs the proxy until SIGTERM or SIGINT, then drains it.
func serve(cfg *config.Config, path string, log *slog.Logger) int {
	var cacheMem, cacheLarge int64
	if *cfg.Cache.Enabled {
		cacheMem, cacheLarge = int64(cfg.Cache.Memory), int64(cfg.Cache.LargeMemory)
	}
	rt := tuning.ApplyRuntime(cacheMem+cacheLarge, memoryHeadroom)
	gcPercent, gcSource := tuning.ApplyGC(cacheMem)
	log.Info("runtime", "settings", rt.String(), "GOGC", gcPercent, "GOGC_source", gcSource)
	if rt.Warning != "" {
		log.Warn(rt.Warning)
	}
	for _, w := range tuning.Warnings(loadOf(cfg)) {
		log.Warn("kernel setting caps the configured load: run edgeproxy tune", "setting", w)
	}
	srv, err := engine.New(cfg, log)
	if err != nil {
		log.Error("start-up failed", "err", err)
		return 1
	}
	srv.SetConfigPath(path)
	srv.SetVersion(version)
	if cfg.Engine.PinCPUs {
		cpus, err := tuning.AllowedCPUs()
		if err != nil {
			log.Warn("engine.pin_cpus: cannot read the CPU affinity; loops not pinned", "err", err)
		}
		srv.PinLoops(cpus, tuning.PinThread)
	}
	admin, err := engine.NewAdmin(srv, cfg.Admin)
	if err != nil {
		log.Error("admin listener failed", "err", err)
		return 1
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve() }()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	control := make(chan os.Signal, 4)
	signal.Notify(control, syscall.SIGHUP, syscall.SIGUSR1)
	go func() {
		for sig := range control {
			switch sig {
			case syscall.SIGHUP: // reload lists, rules and password files
				_ = srv.Reload()
			case syscall.SIGUSR1: // logrotate moved the access log
				if err := srv.ReopenLog(); err != nil {
					log.Error("reopening the access log", "err", err)
				}
			}
		}
	}()
	select {
	case err := <-errc:
		log.Error("proxy stopped", "err", err)
		return 1
	case <-srv.Ready():
		log.Info("edgeproxy listening", "listen", cfg.Listen, "admin", cfg.Admin, "version", version)
	}
	select {
	case err := <-errc:
		if err != nil {
			log.Error("proxy stopped", "err", err)
			return 1
		}
		return 0
	case sig := <-sigs:
		log.Info("stopping: draining connections", "signal", sig.String(), "timeout", cfg.Timeouts.Drain.String())
	}
	_ = admin.Close()
	if err := srv.Shutdown(context.Background()); err != nil && !errors.Is(err, context.Canceled) {
		log.Warn("shutdown", "err", err)
	}
	if err := <-errc; err != nil {
		log.Error("proxy stopped", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}
