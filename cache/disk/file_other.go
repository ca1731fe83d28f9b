//go:build !linux

package disk

// sizeFile shortens f to size if a larger Size left it longer; other systems
// let it grow sparse as it is written.
func sizeFile(f segFile, size int64) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() > size {
		return f.Truncate(size)
	}
	return nil
}
