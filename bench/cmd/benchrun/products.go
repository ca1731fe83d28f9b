package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// productKind says how a product takes load.
type productKind int

const (
	kindProxy   productKind = iota // a forward proxy in front of the origin
	kindDirect                     // the origin itself, no proxy
	kindCeiling                    // the gnet ceiling, a canned response
)

// product is one thing the bench measures.
type product struct {
	name      string
	kind      productKind
	binary    string // executable the product needs ("" for bench tools)
	pkg       string // Debian package that provides binary
	caches    bool
	noConnect string // why CONNECT tunnels do not apply, "" if they do
	noIdle    string // why idle keep-alive connections do not apply
	// closesSilently marks a server that closes each client connection
	// after one response without saying "Connection: close"; wrk then
	// counts one read error per request (see runLoadScenario).
	closesSilently bool
	start          func(h *harness, dir string, v peerVars) (*server, error)
}

// server is a started product.
type server struct {
	procs   []*proc
	addr    string // where the load generator connects
	proxied bool   // clients send absolute-form requests
	admin   string // edgeproxy's admin listener, "" otherwise
	origin  string // host:port that serves /obj for this server's requests
	source  string // host:port of the byte source a tunnel run reaches
	logDir  string

	closesSilently bool // copied from the product
}

// pgids are the process groups whose CPU and memory count for the server.
func (s *server) pgids() []int {
	var g []int
	for _, p := range s.procs {
		g = append(g, p.pid)
	}
	return g
}

func (s *server) stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		s.procs[i].stop(5 * time.Second)
	}
}

// baseProduct is edgeproxy built from a baseline revision (-edgeproxy-base,
// -base-rev): same config, same flags, measured in the same rounds.
const baseProduct = "edgeproxy-base"

// products lists everything benchrun knows, in report order.
func products() []*product {
	return []*product{
		{name: "edgeproxy", kind: kindProxy, caches: true, start: startEdgeproxy},
		{name: baseProduct, kind: kindProxy, caches: true, start: startEdgeproxyBase},
		{name: "squid", kind: kindProxy, binary: "squid", pkg: "squid", caches: true, start: startSquid},
		{name: "nginx", kind: kindProxy, binary: "nginx", pkg: "nginx", caches: true, start: startNginx,
			noConnect: "nginx has no CONNECT method (only through third-party modules)"},
		{name: "varnish", kind: kindProxy, binary: "varnishd", pkg: "varnish", caches: true, start: startVarnish,
			noConnect: "Varnish does not implement CONNECT"},
		{name: "trafficserver", kind: kindProxy, binary: "traffic_server", pkg: "trafficserver", caches: true, start: startTrafficServer},
		{name: "tinyproxy", kind: kindProxy, binary: "tinyproxy", pkg: "tinyproxy", start: startTinyproxy, closesSilently: true,
			noIdle: "tinyproxy closes every client connection after one response (no keep-alive), so there is no idle keep-alive connection to hold"},
		{name: "direct", kind: kindDirect, start: startDirect},
		{name: "ceiling", kind: kindCeiling, start: startCeiling},
	}
}

// notApplicable says why product p does not run scenario sc ("" if it does).
func notApplicable(p *product, sc scenario) string {
	switch p.kind {
	case kindCeiling:
		if sc.kind == "hit" && sc.size == "1k" || sc.kind == "idle" {
			return ""
		}
		return "the ceiling answers a fixed 1 KiB response; it is no origin and no proxy"
	case kindDirect:
		return ""
	}
	switch {
	case !p.caches && (sc.kind == "hit" || sc.kind == "zipf"):
		return p.name + " has no cache (pass-through only)"
	case sc.kind == "tunnel" && p.noConnect != "":
		return p.noConnect
	case sc.kind == "idle" && p.noIdle != "":
		return p.noIdle
	}
	return ""
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// proxyServer fills the parts every proxy shares.
func (h *harness) proxyServer(v peerVars, dir string, ps ...*proc) *server {
	return &server{procs: ps, addr: v.Listen, proxied: true, origin: h.originAddr, source: h.sourceAddr, logDir: dir}
}

func startSquid(h *harness, dir string, v peerVars) (*server, error) {
	conf := filepath.Join(dir, "squid.conf")
	if err := render(h.peersDir, "squid.conf", conf, v); err != nil {
		return nil, err
	}
	if err := chmodTree(dir); err != nil {
		return nil, err
	}
	// -N: no daemon, one process (workers 1), so it is killed by its pid.
	p, err := start("squid", []string{"squid", "-N", "-f", conf}, startOpts{cpus: h.serverCPUs, dir: dir, logTo: filepath.Join(dir, "stdout.log")})
	if err != nil {
		return nil, err
	}
	return h.proxyServer(v, dir, p), nil
}

func startNginx(h *harness, dir string, v peerVars) (*server, error) {
	conf := filepath.Join(dir, "nginx.conf")
	if err := render(h.peersDir, "nginx.conf", conf, v); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(v.ShmDir, 0o777); err != nil {
		return nil, err
	}
	if err := chmodTree(dir); err != nil {
		return nil, err
	}
	p, err := start("nginx", []string{"nginx", "-c", conf, "-p", dir + "/", "-e", filepath.Join(dir, "error.log")},
		startOpts{cpus: h.serverCPUs, dir: dir, logTo: filepath.Join(dir, "stdout.log")})
	if err != nil {
		return nil, err
	}
	return h.proxyServer(v, dir, p), nil
}

func startVarnish(h *harness, dir string, v peerVars) (*server, error) {
	if err := render(h.peersDir, "varnish.vcl", filepath.Join(dir, "default.vcl"), v); err != nil {
		return nil, err
	}
	args, err := renderArgs(h.peersDir, "varnish.args", v)
	if err != nil {
		return nil, err
	}
	if err := chmodTree(dir); err != nil {
		return nil, err
	}
	p, err := start("varnishd", append([]string{"varnishd"}, args...),
		startOpts{cpus: h.serverCPUs, dir: dir, logTo: filepath.Join(dir, "stdout.log")})
	if err != nil {
		return nil, err
	}
	return h.proxyServer(v, dir, p), nil
}

func startTrafficServer(h *harness, dir string, v peerVars) (*server, error) {
	etc := filepath.Join(dir, "etc")
	if err := copyTree("/etc/trafficserver", etc); err != nil {
		return nil, fmt.Errorf("benchrun: copy packaged ATS config: %w", err)
	}
	for _, f := range []string{"records.config", "storage.config"} {
		if err := render(h.peersDir, filepath.Join("trafficserver", f), filepath.Join(etc, f), v); err != nil {
			return nil, err
		}
	}
	runroot := filepath.Join(dir, "runroot.yaml")
	if err := render(h.peersDir, "trafficserver/runroot.yaml", runroot, v); err != nil {
		return nil, err
	}
	for _, d := range []string{"run", "log", "var", "cache", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o777); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(filepath.Join(v.ShmDir, "ats"), 0o777); err != nil {
		return nil, err
	}
	for _, d := range []string{dir, v.ShmDir} {
		if err := chmodTree(d); err != nil {
			return nil, err
		}
	}
	p, err := start("traffic_server", []string{"traffic_server", "--run-root=" + runroot},
		startOpts{cpus: h.serverCPUs, dir: dir, logTo: filepath.Join(dir, "stdout.log")})
	if err != nil {
		return nil, err
	}
	return h.proxyServer(v, dir, p), nil
}

func startTinyproxy(h *harness, dir string, v peerVars) (*server, error) {
	conf := filepath.Join(dir, "tinyproxy.conf")
	if err := render(h.peersDir, "tinyproxy.conf", conf, v); err != nil {
		return nil, err
	}
	if err := chmodTree(dir); err != nil {
		return nil, err
	}
	p, err := start("tinyproxy", []string{"tinyproxy", "-d", "-c", conf},
		startOpts{cpus: h.serverCPUs, dir: dir, logTo: filepath.Join(dir, "stdout.log")})
	if err != nil {
		return nil, err
	}
	return h.proxyServer(v, dir, p), nil
}

func startEdgeproxy(h *harness, dir string, v peerVars) (*server, error) {
	return startEdgeproxyBinary(h, h.cfg.edgeproxy, dir, v)
}

func startEdgeproxyBase(h *harness, dir string, v peerVars) (*server, error) {
	return startEdgeproxyBinary(h, h.cfg.edgeproxyBase, dir, v)
}

// startEdgeproxyBinary starts one edgeproxy binary with the bench's config
// (peers/edgeproxy.yaml) and EDGEPROXY_ARGS.
func startEdgeproxyBinary(h *harness, binary, dir string, v peerVars) (*server, error) {
	conf := filepath.Join(dir, "edgeproxy.yaml")
	if err := render(h.peersDir, "edgeproxy.yaml", conf, v); err != nil {
		return nil, err
	}
	argv := []string{binary, "--config", conf, "--listen", v.Listen, "--admin", v.Admin,
		"--cache-mem", strconv.FormatInt(v.CacheMiB, 10) + "MiB"}
	argv = append(argv, strings.Fields(os.Getenv("EDGEPROXY_ARGS"))...)
	p, err := start("edgeproxy", argv, startOpts{cpus: h.serverCPUs, dir: dir, logTo: filepath.Join(dir, "edgeproxy.log")})
	if err != nil {
		return nil, err
	}
	s := h.proxyServer(v, dir, p)
	s.admin = v.Admin
	return s, nil
}

func startDirect(h *harness, dir string, v peerVars) (*server, error) {
	p, addrs, err := startWithAddr("origin-direct",
		[]string{filepath.Join(h.cfg.toolDir, "origin"), "-listen", "127.0.0.1:0", "-source", "127.0.0.1:0"},
		startOpts{cpus: h.serverCPUs, dir: dir, logTo: filepath.Join(dir, "stdout.log")}, 2)
	if err != nil {
		return nil, err
	}
	return &server{procs: []*proc{p}, addr: addrs[0], origin: addrs[0],
		source: strings.TrimPrefix(addrs[1], "source "), logDir: dir}, nil
}

func startCeiling(h *harness, dir string, v peerVars) (*server, error) {
	p, addrs, err := startWithAddr("ceiling", []string{filepath.Join(h.cfg.toolDir, "ceiling"), "-listen", "127.0.0.1:0"},
		startOpts{cpus: h.serverCPUs, dir: dir, logTo: filepath.Join(dir, "stdout.log")}, 1)
	if err != nil {
		return nil, err
	}
	return &server{procs: []*proc{p}, addr: addrs[0], origin: addrs[0], logDir: dir}, nil
}

// available says why a product cannot run on this machine ("" if it can).
func (h *harness) available(p *product) string {
	switch p.name {
	case "edgeproxy":
		if _, err := os.Stat(h.cfg.edgeproxy); err != nil {
			return "binary not built (" + h.cfg.edgeproxy + " missing; `make build` makes it)"
		}
		return ""
	case baseProduct:
		if h.cfg.edgeproxyBase == "" {
			return "no baseline given (bench/run --base REV, or benchrun -edgeproxy-base PATH)"
		}
		if _, err := os.Stat(h.cfg.edgeproxyBase); err != nil {
			return "baseline binary " + h.cfg.edgeproxyBase + " missing"
		}
		return ""
	}
	if p.binary != "" {
		if _, err := exec.LookPath(p.binary); err != nil {
			return fmt.Sprintf("%s not installed (Debian package %s)", p.binary, p.pkg)
		}
	}
	return ""
}
