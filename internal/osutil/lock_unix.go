//go:build unix

package osutil

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// LockDir takes folder dir for this process: an exclusive lock on path,
// which names the holder; the lock goes with the process.
func LockDir(dir, path string) (release func(), err error) {
	return LockFile(path, dir+" is in use by another sweep", false)
}

// LockFile takes an exclusive lock on path for this process, writing the
// holder (pid, host, since) into it; busy is the refusal's text when
// another process holds it. With remove, release deletes the file (before
// unlocking), and a lock taken on a file deleted meanwhile is taken again
// on the new one.
func LockFile(path, busy string, remove bool) (release func(), err error) {
	for {
		// A symlink at the lock's place is refused, not followed (its
		// target would be truncated).
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("%s is a symbolic link: remove it (reluscope does not follow it)", path)
		}
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err == nil && !st.Mode().IsRegular() {
			f.Close()
			return nil, fmt.Errorf("%s is not a regular file", path)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			holder, _ := os.ReadFile(path)
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("%s (%s); wait for it to finish or stop it", busy, strings.TrimSpace(string(holder)))
			}
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if now, err := os.Stat(path); remove && (err != nil || !os.SameFile(st, now)) {
			f.Close() // its holder removed it as we locked it: take the new one
			continue
		}
		host, _ := os.Hostname()
		f.Truncate(0)
		fmt.Fprintf(f, "pid %d on %s since %s\n", os.Getpid(), host, time.Now().Format(time.RFC3339))
		return func() {
			if remove {
				os.Remove(path)
			}
			syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
			f.Close()
		}, nil
	}
}
