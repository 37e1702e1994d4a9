package directio

import "golang.org/x/sys/unix"

// SetDirect turns O_DIRECT on or off for the open file fd. An error means
// the file system does not take it (or fd is not a file): the I/O goes
// through the page cache.
func SetDirect(fd uintptr, on bool) error {
	flags, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
	if err != nil {
		return err
	}
	if on {
		flags |= unix.O_DIRECT
	} else {
		flags &^= unix.O_DIRECT
	}
	_, err = unix.FcntlInt(fd, unix.F_SETFL, flags)
	return err
}
