//go:build !unix

package osutil

const (
	rlimitAS   = 0
	rlimitData = 1
)

// rlimit: no resource limits to read here.
func rlimit(int) (uint64, bool) { return 0, false }
