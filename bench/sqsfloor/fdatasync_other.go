//go:build !linux

package sqsfloor

import "os"

func fdatasync(f *os.File) error { return f.Sync() }
