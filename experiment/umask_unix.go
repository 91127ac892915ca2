//go:build unix

package experiment

import "syscall"

// umask is the process's file mode creation mask, read once at start
// (setting it back at once, before any goroutine creates a file).
var umask = func() uint32 {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return uint32(m)
}()
