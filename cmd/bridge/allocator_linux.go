package main

import (
	"os"
	"syscall"
)

// reexecWithAllocatorEnv executes this program again with allocatorEnv's
// settings when args run a server and the environment lacks them; it
// returns only when it did not (or could not: then the server runs
// without them, and its start logs the environment it has).
func reexecWithAllocatorEnv(args []string) {
	if !wantsAllocatorEnv(args) {
		return
	}
	env, changed := allocatorEnv(os.Environ())
	if !changed {
		return
	}
	// The binary's own path keeps the process's name (ps, top, pgrep and
	// killall read it from the file executed): executing /proc/self/exe
	// would rename every server "exe". That link is the fallback, for a
	// binary removed since it started.
	if exe, err := os.Executable(); err == nil {
		_ = syscall.Exec(exe, os.Args, env)
	}
	_ = syscall.Exec("/proc/self/exe", os.Args, env)
}
