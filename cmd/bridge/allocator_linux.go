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
	// /proc/self/exe is the running binary even if its path was replaced
	// or removed since it started.
	_ = syscall.Exec("/proc/self/exe", os.Args, env)
}
