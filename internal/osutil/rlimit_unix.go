//go:build unix

package osutil

import "syscall"

const (
	rlimitAS   = syscall.RLIMIT_AS
	rlimitData = syscall.RLIMIT_DATA
)

// rlimit is the soft limit res, ok false when unlimited or unknown.
func rlimit(res int) (uint64, bool) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(res, &r); err != nil || r.Cur == ^uint64(0) {
		return 0, false
	}
	return r.Cur, true
}
