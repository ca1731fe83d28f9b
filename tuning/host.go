package tuning

import (
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// host is the machine the checks read. Tests replace it with a fake tree so
// that recommendations can be checked exactly; production code uses
// systemHost.
type host struct {
	// fsys is rooted at "/": the file /proc/sys/fs/nr_open is
	// "proc/sys/fs/nr_open" in it.
	fsys fs.FS
	// nofile returns the process's RLIMIT_NOFILE soft and hard limits.
	nofile func() (soft, hard uint64, err error)
}

// systemHost reads the running machine.
func systemHost() host {
	return host{fsys: os.DirFS("/"), nofile: getNofile}
}

// read returns the content of the file at the absolute path p with runs of
// white space (the tabs of tcp_rmem, the trailing newline) folded to one
// space.
func (h host) read(p string) (string, error) {
	b, err := fs.ReadFile(h.fsys, strings.TrimPrefix(p, "/"))
	if err != nil {
		return "", err
	}
	return strings.Join(strings.Fields(string(b)), " "), nil
}

// readInt reads a file holding one integer.
func (h host) readInt(p string) (int64, error) {
	s, err := h.read(p)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(s, 10, 64)
}

// sysctlPath maps a sysctl name to its file: net.core.somaxconn is
// /proc/sys/net/core/somaxconn.
func sysctlPath(name string) string {
	return "/proc/sys/" + strings.ReplaceAll(name, ".", "/")
}
