//go:build !linux

package measure

import "os"

// setDirect does nothing here: DiskWrite writes through the page cache.
func setDirect(*os.File) bool { return false }
