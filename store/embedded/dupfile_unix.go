//go:build unix

package embedded

import (
	"os"

	"golang.org/x/sys/unix"
)

// dupFile returns a new *os.File on a duplicate of descriptor fd: its own
// offset, closed on its own.
func dupFile(fd uintptr) (*os.File, error) {
	dup, err := unix.Dup(int(fd))
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(dup), "object"), nil
}
