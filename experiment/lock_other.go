//go:build !unix

package experiment

// lockDir is a no-op where flock is not available.
func lockDir(string, string) (func(), error) { return func() {}, nil }
