//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package server

import "os"

// Without flock the data dir is not locked here; the store's own lock still
// keeps two processes apart, with a less specific message.
func lockFile(*os.File) error   { return nil }
func unlockFile(*os.File) error { return nil }
