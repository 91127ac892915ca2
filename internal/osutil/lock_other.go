//go:build !unix

package osutil

// LockDir is a no-op where flock is not available.
func LockDir(string, string) (func(), error) { return func() {}, nil }

// LockFile is a no-op where flock is not available.
func LockFile(string, string, bool) (func(), error) { return func() {}, nil }
