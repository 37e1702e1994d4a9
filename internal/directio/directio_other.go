//go:build !linux

package directio

import "errors"

// SetDirect fails here: direct I/O is used on Linux only, and the I/O goes
// through the page cache.
func SetDirect(fd uintptr, on bool) error {
	return errors.New("directio: O_DIRECT is used on Linux only")
}
