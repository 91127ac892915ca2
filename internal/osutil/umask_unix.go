//go:build unix

package osutil

import "syscall"

// Umask is the process's file mode creation mask, read once at start
// (setting it back at once, before any goroutine creates a file).
var Umask = func() uint32 {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return uint32(m)
}()
