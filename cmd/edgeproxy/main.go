// Command edgeproxy is a forward HTTP caching proxy for the edge of a
// network.
//
//	edgeproxy [--config FILE] [--listen ADDR] [--admin ADDR] [--cache-mem SIZE] [--cache-large-mem SIZE]
//	edgeproxy check --config FILE
//	edgeproxy tune [--config FILE]
//	edgeproxy prefetch-report --log FILE [--config FILE] [--window N] [--threshold K]
//	edgeproxy help
//	edgeproxy --version
//
// An unknown command or a stray argument is a usage error (exit 2).
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
	"strings"
	"sync/atomic"
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

// usage lists the commands; the flag sets add their own flags below it.
const usage = `usage:
  edgeproxy [--config FILE] [--listen ADDR] [--admin ADDR] [--cache-mem SIZE]
            [--cache-large-mem SIZE] [--debug]
      run the proxy (on the embedded defaults without --config)
  edgeproxy check --config FILE
      build everything start-up builds from FILE, reading every file it
      names, without listening; exit 1 on the first error
  edgeproxy tune [--config FILE]
      compare the kernel's settings and limits with the configured load
  edgeproxy prefetch-report --log FILE [--config FILE] [--window N]
            [--threshold K] [--min-count N]
      show what the prefetcher would learn from an access log
  edgeproxy help [COMMAND]
      print this text, and the flags of COMMAND
  edgeproxy --version
      print the version
`

// commandNames are the subcommands, for suggestions.
var commandNames = []string{"check", "tune", "prefetch-report", "help"}

// command returns the subcommand called name.
func command(name string) (func(args []string, stdout, stderr io.Writer) int, bool) {
	switch name {
	case "check":
		return check, true
	case "tune":
		return tune, true
	case "prefetch-report":
		return prefetchReport, true
	case "help":
		return help, true
	}
	return nil, false
}

// run is main with its inputs and outputs explicit, so tests can drive it.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, ok := command(args[0])
		if !ok {
			return usageError(stderr, "unknown command %q%s", args[0], suggest(args[0]))
		}
		return cmd(args[1:], stdout, stderr)
	}
	fs := newFlagSet("edgeproxy", stderr)
	var (
		configPath = fs.String("config", "", "YAML configuration `file` (default: embedded defaults)")
		listen     = fs.String("listen", "", "proxy listen `address`, overrides listen in the config")
		admin      = fs.String("admin", "", "admin and metrics listen `address`, or off; overrides admin")
		cacheMem   = fs.String("cache-mem", "", "in-memory cache `size`, e.g. 256MiB; overrides cache.memory")
		cacheLarge = fs.String("cache-large-mem", "", "large-object memory tier `size`, e.g. 1GiB; overrides cache.large_memory")
		showVer    = fs.Bool("version", false, "print the version and exit")
		debug      = fs.Bool("debug", false, "log at debug level")
	)
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if *showVer {
		fmt.Fprintln(stdout, "edgeproxy", version)
		return 0
	}
	o := overrides{listen: *listen, admin: *admin, cacheMem: *cacheMem, cacheLarge: *cacheLarge}
	cfg, err := loadConfig(*configPath, o)
	if err != nil {
		fmt.Fprintln(stderr, "edgeproxy:", err)
		return 2
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	return serve(cfg, *configPath, o, log)
}

// newFlagSet is a flag set whose errors go to stderr and whose usage text
// the caller prints (see parseFlags).
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args into fs. ok is false when the command must exit
// with code: 0 after --help (usage on stdout), 2 after a bad flag or a stray
// argument (usage on stderr).
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (code int, ok bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printUsage(stdout, fs)
		return 0, false
	case err != nil: // the flag package has printed the error
		printUsage(stderr, fs)
		return 2, false
	case fs.NArg() > 0:
		cmd := strings.TrimPrefix(strings.TrimPrefix(fs.Name(), "edgeproxy"), " ")
		if cmd != "" {
			cmd += ": "
		}
		return usageError(stderr, "%sunexpected argument %q", cmd, fs.Arg(0)), false
	}
	return 0, true
}

// printUsage writes the command list, then fs's flags.
func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, usage)
	fmt.Fprintf(w, "\nflags of %s:\n", fs.Name())
	out := fs.Output()
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(out)
}

// usageError reports a command line that cannot be run, with the usage,
// on stderr, and returns exit code 2.
func usageError(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "edgeproxy: "+format+"\n\n", args...)
	fmt.Fprint(stderr, usage)
	return 2
}

// suggest names the command closest to a mistyped one, if any is close.
func suggest(name string) string {
	best, dist := "", 3
	for _, c := range commandNames {
		if d := config.EditDistance(name, c); d < dist || d == dist && c < best {
			best, dist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// help prints the usage on stdout; `help COMMAND` prints the command's
// flags too.
func help(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 {
		if cmd, ok := command(args[0]); ok && args[0] != "help" {
			return cmd([]string{"--help"}, stdout, stderr)
		}
	}
	if len(args) > 0 {
		return usageError(stderr, "help: unexpected argument %q", args[0])
	}
	fmt.Fprint(stdout, usage)
	return 0
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
		if len(cfg.Listeners) > 0 {
			return nil, &config.Error{File: path, Key: "listeners", Reason: "--listen cannot replace listeners: change them in the file"}
		}
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

// check builds everything start-up builds from a configuration file, short
// of listening (engine.Check), and reports the first error, naming the
// configuration file, the key, and the file and line the key names. What
// start-up would log as a warning is printed too.
func check(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("edgeproxy check", stderr)
	path := fs.String("config", "", "YAML configuration `file` to check")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if *path == "" {
		return usageError(stderr, "check: --config FILE is required")
	}
	cfg, err := loadConfig(*path, overrides{})
	if err == nil {
		log := &countingHandler{Handler: slog.NewTextHandler(stderr, nil), warnings: new(atomic.Int64)}
		err = inFile(engine.Check(cfg, slog.New(log)), *path)
		if err == nil {
			if n := log.warnings.Load(); n > 0 {
				fmt.Fprintf(stdout, "%s: configuration OK, with %d warning(s) above\n", *path, n)
				return 0
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "edgeproxy check:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: configuration OK\n", *path)
	return 0
}

// countingHandler counts the records at level Warn and above that it, or
// a handler derived from it, passes on.
type countingHandler struct {
	slog.Handler
	warnings *atomic.Int64
}

// Handle counts r and passes it on.
func (h *countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.warnings.Add(1)
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps counting into the same total.
func (h *countingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &countingHandler{Handler: h.Handler.WithAttrs(as), warnings: h.warnings}
}

// WithGroup keeps counting into the same total.
func (h *countingHandler) WithGroup(name string) slog.Handler {
	return &countingHandler{Handler: h.Handler.WithGroup(name), warnings: h.warnings}
}

// inFile names the configuration file in err when it is a *config.Error
// that does not name one yet (the engine's errors name only the key).
func inFile(err error, path string) error {
	var ce *config.Error
	if errors.As(err, &ce) && ce.File == "" {
		ce.File = path
	}
	return err
}

// tune prints the running kernel's settings and limits against what the
// configured load needs, each with its effect.
func tune(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("edgeproxy tune", stderr)
	path := fs.String("config", "", "YAML configuration `file` whose load to check (default: embedded defaults)")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
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

// serve runs the proxy until SIGTERM or SIGINT, then drains it. A reload
// (SIGHUP, POST /reload) reads path again with the same overrides.
func serve(cfg *config.Config, path string, o overrides, log *slog.Logger) int {
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
		log.Error("start-up failed", "err", inFile(err, path))
		return 1
	}
	srv.SetConfigPath(path)
	srv.SetVersion(version)
	srv.SetConfigLoader(func() (*config.Config, error) { return loadConfig(path, o) })
	if cfg.Engine.PinCPUs {
		cpus, err := tuning.AllowedCPUs()
		if err != nil {
			log.Warn("engine.pin_cpus: cannot read the CPU affinity; loops not pinned", "err", err)
		}
		srv.PinLoops(cpus, tuning.PinThread)
	}
	admin, err := engine.NewAdmin(srv, cfg.Admin)
	if err != nil {
		log.Error("admin listener failed", "err", inFile(&config.Error{Key: "admin", Reason: err.Error(), Err: err}, path))
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
			case syscall.SIGHUP: // reload lists, rules, password files, PAC; the log names keys needing a restart
				_ = srv.Reload()
			case syscall.SIGUSR1: // logrotate moved the access log
				if err := srv.ReopenLog(); err != nil {
					log.Error("reopening the access log", "err", err)
				}
			}
		}
	}()
	select {
	case err := <-errc: // the listen address could not be bound
		log.Error("proxy stopped", "err", inFile(&config.Error{Key: "listen", Reason: fmt.Sprint(err), Err: err}, path))
		return 1
	case <-srv.Ready():
		if len(cfg.Listeners) > 0 {
			log.Info("edgeproxy listening", "listeners", fmt.Sprint(cfg.Listeners), "admin", cfg.Admin, "version", version)
		} else {
			log.Info("edgeproxy listening", "listen", cfg.Listen, "admin", cfg.Admin, "version", version)
		}
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
