package tuning

import (
	"io/fs"
	"math"
	"path"
	"strconv"
	"strings"
)

// cgroupMount is one cgroup hierarchy as /proc/self/mountinfo shows it.
type cgroupMount struct {
	root       string // the hierarchy path mounted (field 4 of mountinfo)
	mountpoint string // where it is mounted (field 5)
}

// cgroupView locates the process's cgroup directories: the unified (v2)
// hierarchy and the v1 hierarchies, keyed by controller name.
type cgroupView struct {
	v2     *cgroupMount
	v2Path string
	v1     map[string]cgroupMount
	v1Path map[string]string
}

// cgroups reads /proc/self/cgroup and /proc/self/mountinfo. A missing file
// yields an empty view; callers then fall back to the conventional paths.
func (h host) cgroups() cgroupView {
	v := cgroupView{v1: map[string]cgroupMount{}, v1Path: map[string]string{}}
	if s, err := h.readLines("/proc/self/cgroup"); err == nil {
		for _, line := range s {
			// hierarchy-ID:controller-list:cgroup-path; v2 is "0::/path".
			parts := strings.SplitN(line, ":", 3)
			if len(parts) != 3 {
				continue
			}
			if parts[0] == "0" && parts[1] == "" {
				v.v2Path = parts[2]
				continue
			}
			for _, c := range strings.Split(parts[1], ",") {
				v.v1Path[c] = parts[2]
			}
		}
	}
	if s, err := h.readLines("/proc/self/mountinfo"); err == nil {
		for _, line := range s {
			// "36 35 98:0 /root /mnt rw,noatime master:1 - cgroup cgroup rw,cpu"
			left, right, ok := strings.Cut(line, " - ")
			if !ok {
				continue
			}
			lf, rf := strings.Fields(left), strings.Fields(right)
			if len(lf) < 5 || len(rf) < 3 {
				continue
			}
			m := cgroupMount{root: unescapeMount(lf[3]), mountpoint: unescapeMount(lf[4])}
			switch rf[0] {
			case "cgroup2":
				if v.v2 == nil {
					v.v2 = &m
				}
			case "cgroup":
				for _, c := range strings.Split(rf[2], ",") {
					if _, seen := v.v1[c]; !seen {
						v.v1[c] = m
					}
				}
			}
		}
	}
	return v
}

// readLines returns the non-empty lines of a file.
func (h host) readLines(p string) ([]string, error) {
	b, err := fs.ReadFile(h.fsys, strings.TrimPrefix(p, "/"))
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines, nil
}

// unescapeMount undoes mountinfo's octal escapes (\040 is a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// dirs lists the cgroup directories from the process's own up to the mount
// point, leaf first. Limits apply hierarchically, so the effective limit is
// the smallest along this chain.
func (m cgroupMount) dirs(cgroupPath string) []string {
	rel := cgroupPath
	switch {
	case m.root == "/":
	case rel == m.root || strings.HasPrefix(rel, m.root+"/"):
		rel = strings.TrimPrefix(rel, m.root)
	default:
		// The process sits outside the mounted subtree (a cgroup
		// namespace or a bind mount); only the mount itself is visible.
		rel = "/"
	}
	leaf := path.Join(m.mountpoint, rel)
	var out []string
	for d := leaf; ; d = path.Dir(d) {
		out = append(out, d)
		if d == m.mountpoint || d == "/" || d == "." {
			return out
		}
	}
}

// CPUQuota returns the CPU bandwidth the process's cgroup allows, in CPUs
// (quota divided by period), and ok false when there is no quota. It reads
// cpu.max on cgroup v2 and falls back to cpu.cfs_quota_us and
// cpu.cfs_period_us on cgroup v1, taking the smallest limit between the
// process's cgroup and the root of the hierarchy. A CPU quota is not an
// affinity mask: a process with a 2-CPU quota on a 64-CPU machine may run on
// all 64 CPUs, for 2 CPU-seconds per second in total.
func CPUQuota() (cpus float64, ok bool) {
	cpus, ok, _ = systemHost().cpuQuota()
	return cpus, ok
}

// cpuQuota also returns the file that holds the binding limit, or the file
// that says there is none.
func (h host) cpuQuota() (cpus float64, ok bool, file string) {
	v := h.cgroups()
	v2Dirs := []string{"/sys/fs/cgroup"}
	if v.v2 != nil {
		v2Dirs = v.v2.dirs(v.v2Path)
	}
	found := false
	for _, d := range v2Dirs {
		f := d + "/cpu.max"
		s, err := h.read(f)
		if err != nil {
			continue
		}
		if !found {
			found, file = true, f
		}
		// "max 100000" or "250000 100000"
		q, p, _ := strings.Cut(s, " ")
		if q == "max" {
			continue
		}
		c, ok2 := ratio(q, p)
		if ok2 && (!ok || c < cpus) {
			cpus, ok, file = c, true, f
		}
	}
	if found {
		return cpus, ok, file
	}

	v1Dirs := []string{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"}
	if m, has := v.v1["cpu"]; has {
		v1Dirs = m.dirs(v.v1Path["cpu"])
	}
	for _, d := range v1Dirs {
		f := d + "/cpu.cfs_quota_us"
		q, err := h.read(f)
		if err != nil {
			continue
		}
		if !found {
			found, file = true, f
		}
		p, err := h.read(d + "/cpu.cfs_period_us")
		if err != nil || strings.HasPrefix(q, "-") {
			continue
		}
		c, ok2 := ratio(q, p)
		if ok2 && (!ok || c < cpus) {
			cpus, ok, file = c, true, f
		}
	}
	if !found {
		file = "/sys/fs/cgroup/cpu.max"
	}
	return cpus, ok, file
}

// ratio parses quota and period in microseconds.
func ratio(quota, period string) (float64, bool) {
	q, err1 := strconv.ParseInt(quota, 10, 64)
	p, err2 := strconv.ParseInt(period, 10, 64)
	if err1 != nil || err2 != nil || q <= 0 || p <= 0 {
		return 0, false
	}
	return float64(q) / float64(p), true
}

// noMemoryLimit is the smallest value cgroup v1 reports for "no limit"
// (PAGE_COUNTER_MAX pages, rounded; 9223372036854771712 on 4 KiB pages).
const noMemoryLimit = math.MaxInt64 / 2

// memoryLimit returns the smallest cgroup memory limit in bytes between the
// process's cgroup and the hierarchy root, and ok false when there is none.
func (h host) memoryLimit() (bytes int64, ok bool) {
	v := h.cgroups()
	v2Dirs := []string{"/sys/fs/cgroup"}
	if v.v2 != nil {
		v2Dirs = v.v2.dirs(v.v2Path)
	}
	found := false
	for _, d := range v2Dirs {
		s, err := h.read(d + "/memory.max")
		if err != nil {
			continue
		}
		found = true
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 && (!ok || n < bytes) {
			bytes, ok = n, true
		}
	}
	if found {
		return bytes, ok
	}
	v1Dirs := []string{"/sys/fs/cgroup/memory"}
	if m, has := v.v1["memory"]; has {
		v1Dirs = m.dirs(v.v1Path["memory"])
	}
	for _, d := range v1Dirs {
		n, err := h.readInt(d + "/memory.limit_in_bytes")
		if err != nil || n <= 0 || n >= noMemoryLimit {
			continue
		}
		if !ok || n < bytes {
			bytes, ok = n, true
		}
	}
	return bytes, ok
}
