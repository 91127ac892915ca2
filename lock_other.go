//go:build !unix

package main

// lockResults is a no-op where flock is not available.
func lockResults(string) (func(), error) { return func() {}, nil }
