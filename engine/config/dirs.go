package config

import (
	"fmt"
	"path/filepath"
)

// Bounds of cache.dirs[].size: the disk store needs at least four segments
// of 1MiB, and its index addresses 2^50 bytes.
const (
	minDirSize = 4 * MiB
	maxDirSize = Size(1) << 50
)

// validateDirs checks cache.dirs: every item names a path and a size in
// range, and no two items name the same directory (two stores in one
// directory would fight over its lock). An empty list becomes nil, the
// default.
func (k *Cache) validateDirs() error {
	if len(k.Dirs) == 0 {
		k.Dirs = nil
		return nil
	}
	seen := make(map[string]int, len(k.Dirs))
	for i, d := range k.Dirs {
		key := fmt.Sprintf("cache.dirs[%d]", i)
		if d.Path == "" {
			return invalid(key, "no path given (each directory needs a path and a size)")
		}
		if d.Size == 0 {
			return invalid(key, "no size given (each directory needs a path and a size)")
		}
		if d.Size < minDirSize || d.Size > maxDirSize {
			return invalid(key+".size", "%s is out of range (%s to %s)", d.Size, minDirSize, maxDirSize)
		}
		clean := filepath.Clean(d.Path)
		if j, dup := seen[clean]; dup {
			return invalid(key+".path", "%s is also cache.dirs[%d]", d.Path, j)
		}
		seen[clean] = i
	}
	return nil
}
