package sqsfloor

import (
	"os"

	"golang.org/x/sys/unix"
)

// fdatasync flushes f's data, not its metadata (which the ring leaves
// alone).
func fdatasync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var syncErr error
	if err := rc.Control(func(fd uintptr) {
		for {
			if syncErr = unix.Fdatasync(int(fd)); syncErr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	return syncErr
}
