package disk

import (
	"errors"
	"os"
	"syscall"
)

// sizeFile makes f exactly size bytes long, allocating the blocks up front
// (fallocate) where the file system supports it: a full file system then
// shows up once, when a segment is first entered, and not as a failed write
// in the middle of an object.
func sizeFile(f segFile, size int64) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() > size {
		return f.Truncate(size)
	}
	of, ok := f.(*os.File)
	if !ok || fi.Size() == size {
		return nil
	}
	rc, err := of.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = syscall.Fallocate(int(fd), 0, 0, size) }); err != nil {
		return err
	}
	if errors.Is(ferr, syscall.EOPNOTSUPP) || errors.Is(ferr, syscall.ENOSYS) {
		return nil // sparse files grow as they are written
	}
	return ferr
}
