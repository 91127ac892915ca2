//go:build !unix

package main

import "os"

// openLog opens the diagnostics file for appending, private to the user.
func openLog(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
}
