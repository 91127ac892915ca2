//go:build unix

package main

import (
	"os"
	"syscall"
)

// openLog opens the diagnostics file for appending, private to the user,
// refusing to follow a symlink at its place.
func openLog(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|syscall.O_NOFOLLOW, 0o600)
}
