//go:build !unix

package experiment

var umask uint32 = 0o022
