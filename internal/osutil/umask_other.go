//go:build !unix

package osutil

var Umask uint32 = 0o022
