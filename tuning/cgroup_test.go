package tuning

import "testing"

const (
	mountV2     = "22 1 0:21 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
	mountHybrid = "30 22 0:27 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n" +
		"33 30 0:30 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n" +
		"31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n" +
		"34 30 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n" +
		"40 30 0:37 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
)

func TestCPUQuota(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		wantCPUs float64
		wantOK   bool
		wantFile string
	}{
		{
			name: "v2 quota on the service",
			files: map[string]string{
				"/proc/self/cgroup":          "0::/a/b\n",
				"/proc/self/mountinfo":       mountV2,
				"/sys/fs/cgroup/a/b/cpu.max": "150000 100000\n",
				"/sys/fs/cgroup/a/cpu.max":   "max 100000\n",
			},
			wantCPUs: 1.5, wantOK: true, wantFile: "/sys/fs/cgroup/a/b/cpu.max",
		},
		{
			name: "v2 smaller quota on the parent",
			files: map[string]string{
				"/proc/self/cgroup":          "0::/a/b\n",
				"/proc/self/mountinfo":       mountV2,
				"/sys/fs/cgroup/a/b/cpu.max": "400000 100000\n",
				"/sys/fs/cgroup/a/cpu.max":   "50000 100000\n",
			},
			wantCPUs: 0.5, wantOK: true, wantFile: "/sys/fs/cgroup/a/cpu.max",
		},
		{
			name: "v2 without quota",
			files: map[string]string{
				"/proc/self/cgroup":          "0::/a/b\n",
				"/proc/self/mountinfo":       mountV2,
				"/sys/fs/cgroup/a/b/cpu.max": "max 100000\n",
			},
			wantOK: false, wantFile: "/sys/fs/cgroup/a/b/cpu.max",
		},
		{
			name: "hybrid: cpu controller on v1, cpuset listed first",
			files: map[string]string{
				"/proc/self/cgroup":                                "3:cpuset:/\n2:cpu,cpuacct:/svc\n1:memory:/svc\n0::/svc\n",
				"/proc/self/mountinfo":                             mountHybrid,
				"/sys/fs/cgroup/unified/svc/cgroup.procs":          "1\n",
				"/sys/fs/cgroup/cpuset/cpu.cfs_quota_us":           "100000\n",
				"/sys/fs/cgroup/cpuset/cpu.cfs_period_us":          "100000\n",
				"/sys/fs/cgroup/cpu,cpuacct/svc/cpu.cfs_quota_us":  "200000\n",
				"/sys/fs/cgroup/cpu,cpuacct/svc/cpu.cfs_period_us": "100000\n",
				"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":      "-1\n",
				"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us":     "100000\n",
			},
			wantCPUs: 2, wantOK: true, wantFile: "/sys/fs/cgroup/cpu,cpuacct/svc/cpu.cfs_quota_us",
		},
		{
			name: "v1 unlimited",
			files: map[string]string{
				"/proc/self/cgroup":                    "1:cpu:/\n",
				"/proc/self/mountinfo":                 "31 30 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n",
				"/sys/fs/cgroup/cpu/cpu.cfs_quota_us":  "-1\n",
				"/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
			},
			wantOK: false, wantFile: "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
		},
		{
			name: "v1 container: mount root is the process's cgroup",
			files: map[string]string{
				"/proc/self/cgroup":                            "4:cpu,cpuacct:/docker/abc\n",
				"/proc/self/mountinfo":                         "31 30 0:28 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct\n",
				"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":  "300000\n",
				"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
			},
			wantCPUs: 3, wantOK: true, wantFile: "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us",
		},
		{
			name: "v2 mount point with an escaped space",
			files: map[string]string{
				"/proc/self/cgroup":    "0::/x\n",
				"/proc/self/mountinfo": "22 1 0:21 / /cg\\040root rw - cgroup2 cgroup2 rw\n",
				"/cg root/x/cpu.max":   "100000 50000\n",
			},
			wantCPUs: 2, wantOK: true, wantFile: "/cg root/x/cpu.max",
		},
		{
			name:     "no proc files: conventional v2 path",
			files:    map[string]string{"/sys/fs/cgroup/cpu.max": "100000 100000\n"},
			wantCPUs: 1, wantOK: true, wantFile: "/sys/fs/cgroup/cpu.max",
		},
		{
			name:     "nothing to read",
			files:    map[string]string{},
			wantOK:   false,
			wantFile: "/sys/fs/cgroup/cpu.max",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cpus, ok, file := fakeHost(tt.files, 0, 0).cpuQuota()
			if cpus != tt.wantCPUs || ok != tt.wantOK {
				t.Errorf("got %v, %v, want %v, %v", cpus, ok, tt.wantCPUs, tt.wantOK)
			}
			if file != tt.wantFile {
				t.Errorf("file: got %q, want %q", file, tt.wantFile)
			}
		})
	}
}

func TestMemoryLimit(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string
		want   int64
		wantOK bool
	}{
		{"v2 limit", map[string]string{
			"/proc/self/cgroup":           "0::/a\n",
			"/proc/self/mountinfo":        mountV2,
			"/sys/fs/cgroup/a/memory.max": "1073741824\n",
		}, 1 << 30, true},
		{"v2 max", map[string]string{
			"/proc/self/cgroup":           "0::/a\n",
			"/proc/self/mountinfo":        mountV2,
			"/sys/fs/cgroup/a/memory.max": "max\n",
		}, 0, false},
		{"v1 limit", map[string]string{
			"/proc/self/cgroup":                               "1:memory:/svc\n0::/svc\n",
			"/proc/self/mountinfo":                            mountHybrid,
			"/sys/fs/cgroup/memory/svc/memory.limit_in_bytes": "536870912\n",
			"/sys/fs/cgroup/memory/memory.limit_in_bytes":     "9223372036854771712\n",
		}, 512 << 20, true},
		{"v1 unlimited", map[string]string{
			"/proc/self/cgroup":                               "1:memory:/svc\n0::/svc\n",
			"/proc/self/mountinfo":                            mountHybrid,
			"/sys/fs/cgroup/memory/svc/memory.limit_in_bytes": "9223372036854771712\n",
		}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := fakeHost(tt.files, 0, 0).memoryLimit()
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("got %d, %v, want %d, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestUnescapeMount(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/sys/fs/cgroup", "/sys/fs/cgroup"},
		{`/a\040b`, "/a b"},
		{`/tab\011`, "/tab\t"},
		{`/short\04`, `/short\04`},
		{`/end\`, `/end\`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := unescapeMount(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
