package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

// peerVars are the values a config template in bench/peers may use.
type peerVars struct {
	Dir        string // this run's directory: configs, logs, pid files
	ShmDir     string // this run's tmpfs directory: caches
	Listen     string // 127.0.0.1:port the server must listen on
	Admin      string // 127.0.0.1:port for edgeproxy's admin listener
	Host       string // 127.0.0.1
	Port       int
	OriginHost string // the backing origin, 127.0.0.1
	OriginPort int
	SourcePort int   // the origin's raw byte source, target of CONNECT
	CacheBytes int64 // the common cache size
	CacheMiB   int64
	Cores      int // CPUs the server under test may use
	MaxFiles   int // open-file limit the server inherits
	ConnLimit  int // MaxFiles less headroom for the server's own files
}

// render executes bench/peers/<name> with v and writes it to dst.
func render(peersDir, name, dst string, v peerVars) error {
	src := filepath.Join(peersDir, name)
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	t, err := template.New(name).Option("missingkey=error").Parse(string(b))
	if err != nil {
		return fmt.Errorf("benchrun: template %s: %w", src, err)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, v); err != nil {
		return fmt.Errorf("benchrun: template %s: %w", src, err)
	}
	return os.WriteFile(dst, out.Bytes(), 0o644)
}

// renderArgs executes a template holding one command-line argument per line
// ('#' lines and blank lines skipped).
func renderArgs(peersDir, name string, v peerVars) ([]string, error) {
	tmp, err := os.CreateTemp("", "args")
	if err != nil {
		return nil, err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	if err := render(peersDir, name, tmp.Name(), v); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(tmp.Name())
	if err != nil {
		return nil, err
	}
	var args []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		args = append(args, l)
	}
	return args, nil
}

// copyTree copies the regular files under src into dst (used for the
// packaged Traffic Server configs the bench does not override).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o777)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// chmodTree opens a run directory to the unprivileged users the peers
// drop to (proxy, nobody, vcache, trafficserver).
func chmodTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(p, 0o777)
		}
		return os.Chmod(p, 0o666)
	})
}
