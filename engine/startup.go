package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"

	"edgeproxy/engine/accesslog"
	"edgeproxy/engine/config"
)

// startup is what New builds from a configuration before it takes any
// resource: the same function builds it for Check, so that `edgeproxy
// check` and start-up cannot disagree about a configuration.
type startup struct {
	set    *settings
	pol    *policy
	format accesslog.Format // the access log's; zero when log.path is off
}

// prepare builds the settings, the policy (reading the allow, deny and
// admin files, the rules and the password files) and the access-log format
// from cfg, and logs the policy's warnings. Every error is a *config.Error
// naming the key at fault.
func prepare(cfg *config.Config, log *slog.Logger) (*startup, error) {
	set, err := newSettings(cfg)
	if err != nil {
		return nil, err
	}
	pol, err := buildPolicy(cfg, nil)
	if err != nil {
		return nil, err
	}
	for _, w := range pol.warnings {
		log.Warn(w)
	}
	st := &startup{set: set, pol: pol}
	if cfg.Log.Path != config.LogOff {
		if st.format, err = accesslog.ParseFormat(cfg.Log.Format); err != nil {
			return nil, keyError("log.format", err)
		}
	}
	return st, nil
}

// Check does what New does with cfg, short of binding a socket, creating a
// file or locking a disk cache directory, so that it can run beside a
// running proxy: it reads every file the configuration names (allow, deny
// and admin lists, password files, the prefetch seed log), checks that the
// access log can be opened for writing and that each disk cache directory
// is usable. It returns the error New would return, as a *config.Error
// naming the key (and the named file and line where there is one), and
// logs to log what start-up would log as warnings and errors that do not
// stop it (a disk directory out of service, an unreadable seed log).
func Check(cfg *config.Config, log *slog.Logger) error {
	if _, err := prepare(cfg, log); err != nil {
		return err
	}
	if p := cfg.Log.Path; p != config.LogOff && p != "-" {
		if err := probeAppend(p); err != nil {
			return keyError("log.path", fmt.Errorf("accesslog: %w", err))
		}
	}
	if *cfg.Cache.Enabled {
		for i, d := range cfg.Cache.Dirs {
			if err := probeDir(d.Path); err != nil {
				log.Error("disk cache directory out of service", "key", fmt.Sprintf("cache.dirs[%d].path", i), "dir", d.Path, "err", err)
			}
		}
		if cfg.Prefetch.Enabled && cfg.Prefetch.SeedLog != "" {
			f, err := os.Open(cfg.Prefetch.SeedLog)
			if err != nil {
				log.Error("prefetch.seed_log: cannot read it; learning from live requests only", "err", err)
			} else {
				_ = f.Close()
			}
		}
	}
	return nil
}

// probeAppend reports whether path can be opened for appending, as the
// access log is, without creating it: an existing file is opened and
// closed, a missing one needs a writable directory.
func probeAppend(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := writableDir(filepath.Dir(path)); err != nil {
		return &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return nil
}

// probeDir reports whether dir is, or can be made, a directory this process
// may write in, as a disk cache directory must be.
func probeDir(dir string) error {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		err := writableDir(d)
		if !errors.Is(err, fs.ErrNotExist) || d == filepath.Dir(d) {
			if err != nil {
				return &fs.PathError{Op: "open", Path: dir, Err: err}
			}
			return nil
		}
	}
}

// writableDir reports whether dir is a directory in which this process may
// create files: an fs.ErrNotExist error when it does not exist.
func writableDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	}
	if !st.IsDir() {
		return syscall.ENOTDIR
	}
	const wx = 0x2 | 0x1 // W_OK | X_OK, access(2)
	return syscall.Access(dir, wx)
}

// reloadable are the top-level keys a reload applies, and startOnly the
// keys under them that are still read only at start-up (the failure
// counters and the hash pool outlive a reload); every other key keeps its
// start-up value until the next start.
var (
	reloadable = map[string]bool{"acl": true, "rules": true, "auth": true, "pac": true, "errors": true}
	startOnly  = map[string]bool{
		"auth.max_failures": true, "auth.failure_window": true,
		"auth.hash_workers": true, "auth.hash_queue": true,
	}
)

// restartKeys lists the keys whose value differs between the running
// configuration and next but that a reload cannot apply, in file order.
func restartKeys(running, next *config.Config) []string {
	var keys []string
	var walk func(a, b reflect.Value, prefix string, reloads bool)
	walk = func(a, b reflect.Value, prefix string, reloads bool) {
		t := a.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			key := prefix + name
			applied := (reloads || prefix == "" && reloadable[name]) && !startOnly[key]
			fa, fb := a.Field(i), b.Field(i)
			if fa.Kind() == reflect.Struct {
				walk(fa, fb, key+".", applied)
			} else if !applied && !reflect.DeepEqual(fa.Interface(), fb.Interface()) {
				keys = append(keys, key)
			}
		}
	}
	walk(reflect.ValueOf(running).Elem(), reflect.ValueOf(next).Elem(), "", false)
	return keys
}
