package tuning

import (
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
)

// Load is the load edgeproxy is configured for. The recommendations that
// depend on it are minimums for that load; the others are fixed.
type Load struct {
	// MaxConnections is limits.max_connections, the client connections
	// served at once. Each may hold an origin connection too. If zero,
	// the checks that depend on it use their fixed floors (65536 open
	// files, the kernel's default 28232 ephemeral ports).
	MaxConnections int
	// Backlog is the listen backlog asked for. The kernel truncates it to
	// net.core.somaxconn (gnet passes somaxconn itself, read once at
	// start-up). If zero, 4096 is used, the kernel's default somaxconn
	// since Linux 5.4.
	Backlog int
	// EventLoops is the number of event loops. If zero, runtime.NumCPU()
	// is used, as gnet does in multicore mode.
	EventLoops int
}

// Setting is one checked value: a sysctl, a resource limit or the cgroup
// CPU quota.
type Setting struct {
	// Name is the sysctl name (net.core.somaxconn) or the limit's name
	// (RLIMIT_NOFILE, cgroup cpu quota).
	Name string
	// Path is where Current was read: a file or a system call.
	Path string
	// Current is the value as read, with white space folded to one
	// space, or Unavailable when it could not be read.
	Current string
	// Recommended is a value to set, or a bound: ">= 4096", "<= 15".
	Recommended string
	// OK reports whether Current satisfies Recommended.
	OK bool
	// Effect says in one line what goes wrong when the setting is not OK.
	Effect string
}

// Unavailable is the Current of a setting that could not be read, as in a
// network namespace without the file or on a non-Linux system.
const Unavailable = "unavailable"

const (
	// defaultBacklog is the kernel's default somaxconn since Linux 5.4.
	defaultBacklog = 4096
	// maxBacklog is the largest backlog gnet passes to listen(2): it
	// truncates somaxconn to 16 bits, as the kernel once stored it.
	maxBacklog = 65535
	// nofileHeadroom covers the descriptors that are not connections:
	// one listener, one epoll and one eventfd per event loop, log and
	// cache files, DNS sockets and idle connections in the origin pool.
	nofileHeadroom = 1024
	// nofileFloor is the open-file minimum when the load is unknown.
	nofileFloor = 65536
	// systemFiles is what the rest of the machine needs of fs.file-max.
	systemFiles = 65536
	// defaultPortSpan is the size of the kernel's default ephemeral range
	// 32768-60999.
	defaultPortSpan = 28232
	// maxPortSpan is the largest useful range, 1024-65535.
	maxPortSpan = 64512
	// netdevBacklog is the per-CPU input queue recommended in sysctl.conf.
	netdevBacklog = 16384
	// bufMax is 16 MiB: the per-socket buffer ceiling that lets one
	// connection fill 1 Gbit/s at 128 ms round trip (the
	// bandwidth-delay product).
	bufMax = 16 << 20
	// bufDefaultMax is the largest initial per-socket buffer (middle
	// value of tcp_rmem/tcp_wmem) that does not bloat idle sockets.
	bufDefaultMax = 256 << 10
	// finTimeout is the FIN_WAIT_2 orphan timeout in sysctl.conf.
	finTimeout = 15
	// lowatUnset is tcp_notsent_lowat's default: no limit.
	lowatUnset = 4294967295
	// lowatMin is the smallest tcp_notsent_lowat that does not cost bulk
	// transfers a wake-up per few segments.
	lowatMin = 128 << 10
)

// rule is one check. Rules that cap the configured load are reported by
// Warnings as well as by Check.
type rule struct {
	name   string
	effect string
	caps   bool
	eval   func(h host) (path, current, recommended string, ok bool)
}

// Check reads the running machine and returns one Setting per check, in a
// fixed order: the sysctls of sysctl.conf, then RLIMIT_NOFILE and the
// cgroup CPU quota. It only reads.
func Check(load Load) []Setting {
	return check(systemHost(), load)
}

func check(h host, l Load) []Setting {
	rs := rules(l)
	out := make([]Setting, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.setting(h))
	}
	return out
}

func (r rule) setting(h host) Setting {
	p, cur, rec, ok := r.eval(h)
	return Setting{Name: r.name, Path: p, Current: cur, Recommended: rec, OK: ok, Effect: r.effect}
}

// withDefaults fills the zero fields of l.
func (l Load) withDefaults() Load {
	if l.Backlog <= 0 {
		l.Backlog = defaultBacklog
	}
	if l.EventLoops <= 0 {
		l.EventLoops = runtime.NumCPU()
	}
	return l
}

// nofileNeed is the open-file limit the load needs: a client and an origin
// socket per connection, plus headroom.
func (l Load) nofileNeed() int64 {
	if l.MaxConnections <= 0 {
		return nofileFloor
	}
	return 2*int64(l.MaxConnections) + nofileHeadroom
}

// backlogNeed is the somaxconn the load needs.
func (l Load) backlogNeed() int64 {
	return int64(min(l.Backlog, maxBacklog))
}

// portNeed is the ephemeral ports the load may hold towards one origin
// address: one per proxied connection.
func (l Load) portNeed() int64 {
	if l.MaxConnections <= 0 {
		return defaultPortSpan
	}
	return int64(l.MaxConnections)
}

func rules(l Load) []rule {
	l = l.withDefaults()
	nofile := l.nofileNeed()
	backlog := l.backlogNeed()
	return []rule{
		atLeast("net.core.somaxconn", backlog, true,
			"accept queue overflows drop SYNs and handshake ACKs under burst: clients see 1s/3s connect stalls"),
		atLeast("net.ipv4.tcp_max_syn_backlog", backlog, false,
			"with syncookies off, SYNs from new clients drop once the SYN queue passes 3/4 of it"),
		portRange(l.portNeed()),
		exactly("net.ipv4.tcp_tw_reuse", "1", false,
			"origin dials cannot reuse TIME_WAIT ports: EADDRNOTAVAIL under connection churn"),
		atLeast("fs.file-max", nofile+systemFiles, true,
			"system-wide file table full: accept and dial fail with ENFILE in every process"),
		atLeast("fs.nr_open", nofile, false,
			"caps the RLIMIT_NOFILE hard limit: a higher LimitNOFILE makes the service fail to start"),
		atLeast("net.core.netdev_max_backlog", netdevBacklog, false,
			"per-CPU input queue overflows drop packets before TCP sees them (softnet_stat column 2)"),
		atLeast("net.core.rmem_max", bufMax, false,
			"caps explicit SO_RCVBUF only (gnet SocketRecvBuffer); autotuned sockets follow tcp_rmem"),
		atLeast("net.core.wmem_max", bufMax, false,
			"caps explicit SO_SNDBUF only (gnet SocketSendBuffer); autotuned sockets follow tcp_wmem"),
		buffers("net.ipv4.tcp_rmem", "4096 131072 16777216",
			"max caps each upload's window (throughput <= max/RTT); a big default bloats idle sockets"),
		buffers("net.ipv4.tcp_wmem", "4096 16384 16777216",
			"max caps each response's send window (throughput <= max/RTT); a big default bloats idle sockets"),
		sysctl("net.ipv4.tcp_fastopen", "1", false, fastOpenOK,
			"server TFO without a per-listener opt-in accepts replayable request bytes in SYNs"),
		exactly("net.ipv4.tcp_slow_start_after_idle", "0", false,
			"idle keep-alive connections restart from a 10-segment window: extra round trips per response"),
		atMost("net.ipv4.tcp_fin_timeout", finTimeout,
			"orphaned FIN_WAIT_2 sockets of vanished clients hold memory for the whole timeout"),
		sysctl("net.ipv4.tcp_notsent_lowat", strconv.Itoa(lowatUnset), false, lowatOK,
			"a low mark moves unsent response bytes into gnet buffers on the Go heap and adds wake-ups"),
		exactly("net.ipv4.tcp_syncookies", "1", false,
			"without syncookies a SYN flood fills the SYN queue and locks real clients out"),
		sysctl("net.ipv4.tcp_timestamps", "1", false, func(s string) bool { return s == "1" || s == "2" },
			"off disables PAWS and tcp_tw_reuse: TIME_WAIT ports cannot be reused for origin dials"),
		nofileRule(nofile),
		cpuQuotaRule(l.EventLoops),
	}
}

// sysctl is a rule on one sysctl whose folded value ok accepts.
func sysctl(name, rec string, caps bool, ok func(string) bool, effect string) rule {
	return rule{name: name, effect: effect, caps: caps, eval: func(h host) (string, string, string, bool) {
		p := sysctlPath(name)
		cur, err := h.read(p)
		if err != nil {
			return p, Unavailable, rec, false
		}
		return p, cur, rec, ok(cur)
	}}
}

func exactly(name, want string, caps bool, effect string) rule {
	return sysctl(name, want, caps, func(s string) bool { return s == want }, effect)
}

func atLeast(name string, n int64, caps bool, effect string) rule {
	return sysctl(name, ">= "+strconv.FormatInt(n, 10), caps, func(s string) bool {
		v, err := strconv.ParseInt(s, 10, 64)
		return err == nil && v >= n
	}, effect)
}

func atMost(name string, n int64, effect string) rule {
	return sysctl(name, "<= "+strconv.FormatInt(n, 10), false, func(s string) bool {
		v, err := strconv.ParseInt(s, 10, 64)
		return err == nil && v <= n
	}, effect)
}

// buffers checks a "min default max" triple: the max must reach bufMax and
// the default must stay small, since every socket starts at the default.
func buffers(name, rec, effect string) rule {
	return sysctl(name, rec, false, func(s string) bool {
		f := strings.Fields(s)
		if len(f) != 3 {
			return false
		}
		def, err1 := strconv.ParseInt(f[1], 10, 64)
		hi, err2 := strconv.ParseInt(f[2], 10, 64)
		return err1 == nil && err2 == nil && hi >= bufMax && def <= bufDefaultMax
	}, effect)
}

// fastOpenOK rejects only server TFO enabled for every listener (0x2 with
// 0x400): edgeproxy never asks for TFO, and the Go dialer never uses it.
func fastOpenOK(s string) bool {
	v, err := strconv.ParseInt(s, 0, 64)
	return err == nil && (v&0x400 == 0 || v&0x2 == 0)
}

// lowatOK accepts the unlimited default or a mark large enough not to cost
// bulk transfers a wake-up per few segments.
func lowatOK(s string) bool {
	v, err := strconv.ParseInt(s, 10, 64)
	return err == nil && (v == lowatUnset || v >= lowatMin)
}

func portRange(need int64) rule {
	const name = "net.ipv4.ip_local_port_range"
	rec := fmt.Sprintf(">= %d ports", need)
	if need > maxPortSpan {
		rec += " (more than any range: add source addresses)"
	}
	return rule{
		name: name, caps: true,
		effect: "too few ports for origin connections to one origin address: dials fail with EADDRNOTAVAIL",
		eval: func(h host) (string, string, string, bool) {
			p := sysctlPath(name)
			cur, err := h.read(p)
			if err != nil {
				return p, Unavailable, rec, false
			}
			f := strings.Fields(cur)
			if len(f) != 2 {
				return p, cur, rec, false
			}
			lo, err1 := strconv.ParseInt(f[0], 10, 64)
			hi, err2 := strconv.ParseInt(f[1], 10, 64)
			if err1 != nil || err2 != nil {
				return p, cur, rec, false
			}
			span := hi - lo + 1
			return p, fmt.Sprintf("%s (%d ports)", cur, span), rec, span >= need
		},
	}
}

func nofileRule(need int64) rule {
	rec := ">= " + strconv.FormatInt(need, 10)
	return rule{
		name: "RLIMIT_NOFILE", caps: true,
		effect: "accept and origin dials fail with EMFILE once the connections' sockets exceed it",
		eval: func(h host) (string, string, string, bool) {
			const p = "getrlimit(RLIMIT_NOFILE)"
			soft, hard, err := h.nofile()
			if err != nil {
				return p, Unavailable, rec, false
			}
			cur := limitString(soft)
			if soft != hard {
				cur += " (hard " + limitString(hard) + ")"
			}
			return p, cur, rec, soft >= uint64(need)
		},
	}
}

// limitString prints a resource limit, RLIM_INFINITY as "unlimited".
func limitString(v uint64) string {
	if v == ^uint64(0) {
		return "unlimited"
	}
	return strconv.FormatUint(v, 10)
}

func cpuQuotaRule(loops int) rule {
	rec := fmt.Sprintf("none or >= %d CPUs", loops)
	return rule{
		name: "cgroup cpu quota", caps: true,
		effect: "event loops beyond the quota are throttled for the rest of each period: latency spikes",
		eval: func(h host) (string, string, string, bool) {
			cpus, ok, file := h.cpuQuota()
			if !ok {
				return file, "none", rec, true
			}
			return file, decimal2(cpus) + " CPUs", rec, cpus >= float64(loops)
		},
	}
}

// decimal2 prints c with at most two decimals: 2, 2.5, 0.33.
func decimal2(c float64) string {
	return strconv.FormatFloat(math.Round(c*100)/100, 'f', -1, 64)
}
