//go:build !unix

package experiment

// lockDir is a no-op where flock is not available.
func lockDir(string, string) (func(), error) { return func() {}, nil }

// lockFile is a no-op where flock is not available.
func lockFile(string, string, bool) (func(), error) { return func() {}, nil }
