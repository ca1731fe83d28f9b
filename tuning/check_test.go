package tuning

import (
	"bufio"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// fakeHost serves files from an in-memory tree rooted at "/" and a fixed
// RLIMIT_NOFILE.
func fakeHost(files map[string]string, soft, hard uint64) host {
	m := fstest.MapFS{}
	for p, c := range files {
		m[strings.TrimPrefix(p, "/")] = &fstest.MapFile{Data: []byte(c)}
	}
	return host{fsys: m, nofile: func() (uint64, uint64, error) { return soft, hard, nil }}
}

// stockFiles is a Linux 6.x host with kernel defaults, running edgeproxy
// under systemd with CPUQuota=250%.
func stockFiles() map[string]string {
	return map[string]string{
		"/proc/sys/net/core/somaxconn":                          "4096\n",
		"/proc/sys/net/ipv4/tcp_max_syn_backlog":                "2048\n",
		"/proc/sys/net/ipv4/ip_local_port_range":                "32768\t60999\n",
		"/proc/sys/net/ipv4/tcp_tw_reuse":                       "2\n",
		"/proc/sys/fs/file-max":                                 "2466167\n",
		"/proc/sys/fs/nr_open":                                  "1048576\n",
		"/proc/sys/net/core/netdev_max_backlog":                 "1000\n",
		"/proc/sys/net/core/rmem_max":                           "212992\n",
		"/proc/sys/net/core/wmem_max":                           "212992\n",
		"/proc/sys/net/ipv4/tcp_rmem":                           "4096\t131072\t6291456\n",
		"/proc/sys/net/ipv4/tcp_wmem":                           "4096\t16384\t4194304\n",
		"/proc/sys/net/ipv4/tcp_fastopen":                       "1\n",
		"/proc/sys/net/ipv4/tcp_slow_start_after_idle":          "1\n",
		"/proc/sys/net/ipv4/tcp_fin_timeout":                    "60\n",
		"/proc/sys/net/ipv4/tcp_notsent_lowat":                  "4294967295\n",
		"/proc/sys/net/ipv4/tcp_syncookies":                     "1\n",
		"/proc/sys/net/ipv4/tcp_timestamps":                     "1\n",
		"/proc/self/cgroup":                                     "0::/system.slice/edgeproxy.service\n",
		"/proc/self/mountinfo":                                  "22 1 0:21 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n",
		"/sys/fs/cgroup/system.slice/edgeproxy.service/cpu.max": "250000 100000\n",
		"/sys/fs/cgroup/system.slice/cpu.max":                   "max 100000\n",
	}
}

func TestCheckStockHost(t *testing.T) {
	h := fakeHost(stockFiles(), 1024, 524288)
	got := check(h, Load{MaxConnections: 50000, Backlog: 8192, EventLoops: 4})
	want := []struct {
		name, path, current, recommended string
		ok                               bool
	}{
		{"net.core.somaxconn", "/proc/sys/net/core/somaxconn", "4096", ">= 8192", false},
		{"net.ipv4.tcp_max_syn_backlog", "/proc/sys/net/ipv4/tcp_max_syn_backlog", "2048", ">= 8192", false},
		{"net.ipv4.ip_local_port_range", "/proc/sys/net/ipv4/ip_local_port_range", "32768 60999 (28232 ports)", ">= 50000 ports", false},
		{"net.ipv4.tcp_tw_reuse", "/proc/sys/net/ipv4/tcp_tw_reuse", "2", "1", false},
		{"fs.file-max", "/proc/sys/fs/file-max", "2466167", ">= 166560", true},
		{"fs.nr_open", "/proc/sys/fs/nr_open", "1048576", ">= 101024", true},
		{"net.core.netdev_max_backlog", "/proc/sys/net/core/netdev_max_backlog", "1000", ">= 16384", false},
		{"net.core.rmem_max", "/proc/sys/net/core/rmem_max", "212992", ">= 16777216", false},
		{"net.core.wmem_max", "/proc/sys/net/core/wmem_max", "212992", ">= 16777216", false},
		{"net.ipv4.tcp_rmem", "/proc/sys/net/ipv4/tcp_rmem", "4096 131072 6291456", "4096 131072 16777216", false},
		{"net.ipv4.tcp_wmem", "/proc/sys/net/ipv4/tcp_wmem", "4096 16384 4194304", "4096 16384 16777216", false},
		{"net.ipv4.tcp_fastopen", "/proc/sys/net/ipv4/tcp_fastopen", "1", "1", true},
		{"net.ipv4.tcp_slow_start_after_idle", "/proc/sys/net/ipv4/tcp_slow_start_after_idle", "1", "0", false},
		{"net.ipv4.tcp_fin_timeout", "/proc/sys/net/ipv4/tcp_fin_timeout", "60", "<= 15", false},
		{"net.ipv4.tcp_notsent_lowat", "/proc/sys/net/ipv4/tcp_notsent_lowat", "4294967295", "4294967295", true},
		{"net.ipv4.tcp_syncookies", "/proc/sys/net/ipv4/tcp_syncookies", "1", "1", true},
		{"net.ipv4.tcp_timestamps", "/proc/sys/net/ipv4/tcp_timestamps", "1", "1", true},
		{"RLIMIT_NOFILE", "getrlimit(RLIMIT_NOFILE)", "1024 (hard 524288)", ">= 101024", false},
		{"cgroup cpu quota", "/sys/fs/cgroup/system.slice/edgeproxy.service/cpu.max", "2.5 CPUs", "none or >= 4 CPUs", false},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d settings, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		t.Run(w.name, func(t *testing.T) {
			if g.Name != w.name {
				t.Errorf("name: got %q, want %q", g.Name, w.name)
			}
			if g.Path != w.path {
				t.Errorf("path: got %q, want %q", g.Path, w.path)
			}
			if g.Current != w.current {
				t.Errorf("current: got %q, want %q", g.Current, w.current)
			}
			if g.Recommended != w.recommended {
				t.Errorf("recommended: got %q, want %q", g.Recommended, w.recommended)
			}
			if g.OK != w.ok {
				t.Errorf("ok: got %v, want %v", g.OK, w.ok)
			}
			if g.Effect == "" || strings.Contains(g.Effect, "\n") {
				t.Errorf("effect: got %q, want one non-empty line", g.Effect)
			}
		})
	}
}

func TestRecommendationsFollowLoad(t *testing.T) {
	h := fakeHost(stockFiles(), 1<<20, 1<<20)
	tests := []struct {
		name string
		load Load
		want map[string]string
	}{
		{"zero load uses floors", Load{EventLoops: 1}, map[string]string{
			"net.core.somaxconn":           ">= 4096",
			"net.ipv4.tcp_max_syn_backlog": ">= 4096",
			"net.ipv4.ip_local_port_range": ">= 28232 ports",
			"fs.file-max":                  ">= 131072",
			"fs.nr_open":                   ">= 65536",
			"RLIMIT_NOFILE":                ">= 65536",
		}},
		{"backlog above what gnet passes", Load{Backlog: 100000, EventLoops: 1}, map[string]string{
			"net.core.somaxconn":           ">= 65535",
			"net.ipv4.tcp_max_syn_backlog": ">= 65535",
		}},
		{"small proxy", Load{MaxConnections: 1000, EventLoops: 1}, map[string]string{
			"net.ipv4.ip_local_port_range": ">= 1000 ports",
			"fs.file-max":                  ">= 68560",
			"RLIMIT_NOFILE":                ">= 3024",
		}},
		{"more connections than ports", Load{MaxConnections: 100000, EventLoops: 1}, map[string]string{
			"net.ipv4.ip_local_port_range": ">= 100000 ports (more than any range: add source addresses)",
			"RLIMIT_NOFILE":                ">= 201024",
		}},
		{"event loops", Load{EventLoops: 3}, map[string]string{
			"cgroup cpu quota": "none or >= 3 CPUs",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]string{}
			for _, s := range check(h, tt.load) {
				got[s.Name] = s.Recommended
			}
			for name, want := range tt.want {
				if got[name] != want {
					t.Errorf("%s: got %q, want %q", name, got[name], want)
				}
			}
		})
	}
}

func TestCheckUnreadable(t *testing.T) {
	h := host{fsys: fstest.MapFS{}, nofile: func() (uint64, uint64, error) { return 0, 0, errors.New("no getrlimit") }}
	for _, s := range check(h, Load{EventLoops: 2}) {
		t.Run(s.Name, func(t *testing.T) {
			want, wantOK := Unavailable, false
			if s.Name == "cgroup cpu quota" {
				want, wantOK = "none", true
			}
			if s.Current != want || s.OK != wantOK {
				t.Errorf("got %q ok=%v, want %q ok=%v", s.Current, s.OK, want, wantOK)
			}
		})
	}
	if w := warnings(h, Load{MaxConnections: 1 << 20}); len(w) != 0 {
		t.Errorf("got warnings %q for unreadable settings, want none", w)
	}
}

// TestSysctlConfSatisfiesCheck feeds the values of sysctl.conf and
// limits.conf to Check: installed as shipped, they must pass every check for
// a load of 50000 connections to one origin with the largest backlog.
func TestSysctlConfSatisfiesCheck(t *testing.T) {
	conf := readConf(t, "sysctl.conf", "=")
	files := map[string]string{}
	for name, value := range conf {
		files[sysctlPath(name)] = value + "\n"
	}
	nofile, err := strconv.ParseUint(strings.Fields(readLimits(t))[3], 10, 64)
	if err != nil {
		t.Fatalf("limits.conf: %v", err)
	}
	h := fakeHost(files, nofile, nofile)
	seen := map[string]bool{}
	for _, s := range check(h, Load{MaxConnections: 50000, Backlog: 65535, EventLoops: 4}) {
		seen[s.Name] = true
		if !s.OK {
			t.Errorf("%s: got %q, want %q", s.Name, s.Current, s.Recommended)
		}
	}
	for name := range conf {
		if !seen[name] {
			t.Errorf("sysctl.conf sets %s, which Check does not check", name)
		}
	}
	for name := range seen {
		if _, ok := conf[name]; !ok && strings.Contains(name, ".") {
			t.Errorf("Check checks %s, which sysctl.conf does not set", name)
		}
	}
}

// readConf parses "key = value" lines, skipping comments.
func readConf(t *testing.T, file, sep string) map[string]string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, sep)
		if !ok {
			t.Fatalf("%s: not a setting: %q", file, line)
		}
		out[strings.TrimSpace(k)] = strings.Join(strings.Fields(v), " ")
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// readLimits returns the hard nofile line of limits.conf.
func readLimits(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("limits.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 4 && f[0] == "edgeproxy" && f[1] == "hard" && f[2] == "nofile" {
			return line
		}
	}
	t.Fatal("limits.conf: no hard nofile line for edgeproxy")
	return ""
}

// TestCheckThisMachine reads the real /proc/sys: it must produce every row
// with a value, whatever the values are.
func TestCheckThisMachine(t *testing.T) {
	got := Check(Load{MaxConnections: 10000})
	if want := len(rules(Load{})); len(got) != want {
		t.Fatalf("got %d settings, want %d", len(got), want)
	}
	var b strings.Builder
	Report(&b, got)
	t.Log("edgeproxy tune on this machine:\n" + b.String())
	for _, s := range got {
		t.Run(s.Name, func(t *testing.T) {
			if s.Current == "" || s.Recommended == "" || s.Path == "" || s.Effect == "" {
				t.Errorf("got %+v, want every field set", s)
			}
			if s.Current == Unavailable && runtime.GOOS == "linux" {
				t.Errorf("got %q from %s, want a value", s.Current, s.Path)
			}
		})
	}
}
