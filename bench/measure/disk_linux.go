package measure

import (
	"os"

	"golang.org/x/sys/unix"
)

// setDirect turns on O_DIRECT for f and reports whether the file system
// took it.
func setDirect(f *os.File) bool {
	fd := f.Fd()
	flags, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
	if err != nil {
		return false
	}
	_, err = unix.FcntlInt(fd, unix.F_SETFL, flags|unix.O_DIRECT)
	return err == nil
}
