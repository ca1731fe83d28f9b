//go:build !unix

package tuning

func getNofile() (soft, hard uint64, err error) { return 0, 0, ErrUnsupported }
