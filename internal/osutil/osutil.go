// Package osutil is reluscope's side of the operating system, in one
// place: limited reads of regular files, atomic writes and the file mode
// they get, advisory locks, and the memory the machine has (cgroups,
// rlimits, /proc/meminfo).
package osutil

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// OpenLimited opens path for reading, which must be a regular file of at
// most limit bytes (checked before it is opened, so a FIFO never blocks);
// the reader stops at limit.
func OpenLimited(path string, limit int64) (io.ReadCloser, error) {
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	} else if st.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d this file may have", path, st.Size(), limit)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, limit), f}, nil
}

// ReadFileLimited reads path, which must be a regular file of at most limit
// bytes (not a device, a pipe or a folder: /dev/zero is refused, not read).
func ReadFileLimited(path string, limit int64) ([]byte, error) {
	f, err := OpenLimited(path, limit+1)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s grew past %d bytes while being read", path, limit)
	}
	return b, nil
}

// WriteFileAtomic writes data to a temporary file beside path, fsyncs it and
// renames it over path, so a reader sees the old file or the new one, never
// a torn one.
func WriteFileAtomic(path string, data []byte) error {
	return WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteAtomic is WriteFileAtomic of what write writes, streamed through a
// buffer (a file of millions of lines is never held whole in memory).
func WriteAtomic(path string, write func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after the rename
	// Everything a user is meant to read gets one mode: 0644 less the Umask
	// (CreateTemp makes 0600).
	if err := f.Chmod(os.FileMode(0o644 &^ Umask)); err != nil {
		f.Close()
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// WriteSyncClose writes data to f in one call, fsyncs and closes it; f is
// closed whatever fails.
func WriteSyncClose(f *os.File, data []byte) error {
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// MemAvailable is the memory a run may still take and what bounds it: the
// least of /proc/meminfo's MemAvailable, the address-space and data limits
// (RLIMIT_AS, RLIMIT_DATA) less what the process maps already (the Go
// runtime reserves address space up front), the memory cgroup's limit less
// its usage (v2 memory.max − memory.current, v1 memory.limit_in_bytes −
// memory.usage_in_bytes, at every level of the hierarchy: Slurm's --mem
// and Kubernetes' limits are cgroups), and GOMEMLIMIT. 0 when none is
// known. $RELUSCOPE_MEM_AVAILABLE, when set, is the answer instead.
func MemAvailable() (uint64, string, error) {
	if v, ok := os.LookupEnv("RELUSCOPE_MEM_AVAILABLE"); ok {
		b, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil || b == 0 {
			return 0, "", fmt.Errorf("RELUSCOPE_MEM_AVAILABLE=%s: want the available memory in bytes, a whole number > 0", Quote(v))
		}
		return b, "RELUSCOPE_MEM_AVAILABLE", nil
	}
	var best uint64
	var name string
	for _, b := range memBounds(procRoot, cgroupRoot) {
		if best == 0 || b.bytes < best {
			best, name = b.bytes, b.name
		}
	}
	return best, name, nil
}

// procRoot and cgroupRoot are where the bounds are read (tests point them
// at fake trees).
var procRoot, cgroupRoot = "/proc", "/sys/fs/cgroup"

// memBound is one bound on the memory left: what it is, and the bytes.
type memBound struct {
	name  string
	bytes uint64
}

// memBounds reads every bound it can find; an unreadable or unlimited one
// is left out. A bound already exceeded counts as 1 byte left.
func memBounds(proc, cgroup string) []memBound {
	var out []memBound
	left := func(name string, limit, used uint64) {
		if limit == 0 || limit >= 1<<62 {
			return // unlimited
		}
		out = append(out, memBound{name, max(1, limit-min(limit, used))})
	}
	if v := meminfoKB(filepath.Join(proc, "meminfo"), "MemAvailable:"); v > 0 {
		out = append(out, memBound{"MemAvailable", v})
	}
	status := filepath.Join(proc, "self", "status")
	for _, r := range []struct {
		name, field string
		res         int
	}{{"RLIMIT_AS", "VmSize:", rlimitAS}, {"RLIMIT_DATA", "VmData:", rlimitData}} {
		if lim, ok := rlimit(r.res); ok {
			left(r.name+" less what the process maps", lim, meminfoKB(status, r.field))
		}
	}
	for _, c := range cgroupMemory(filepath.Join(proc, "self", "cgroup"), cgroup) {
		left(c.name, c.limit, c.used)
	}
	if lim := debug.SetMemoryLimit(-1); lim > 0 && lim < math.MaxInt64 && os.Getenv("GOMEMLIMIT") != "" {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		left("GOMEMLIMIT", uint64(lim), ms.Sys-ms.HeapReleased)
	}
	return out
}

// meminfoKB is the value in kB of the line starting with field in a
// /proc file of that form (meminfo, status), in bytes; 0 when absent.
func meminfoKB(path, field string) uint64 {
	b, err := ReadFileLimited(path, 1<<20)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// cgroupLimit is a memory cgroup's limit and usage.
type cgroupLimit struct {
	name        string
	limit, used uint64
}

// cgroupMemory finds the process's memory cgroup from its /proc/self/cgroup
// (v2: the "0::" line; v1: the line naming the memory controller) and
// returns the limit and usage of it and of each ancestor that has one.
func cgroupMemory(selfCgroup, root string) []cgroupLimit {
	b, err := ReadFileLimited(selfCgroup, 1<<20)
	if err != nil {
		return nil
	}
	var out []cgroupLimit
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		var dir, limitF, usedF, name string
		switch {
		case parts[0] == "0" && parts[1] == "":
			dir, limitF, usedF, name = root, "memory.max", "memory.current", "memory.max of the cgroup"
			if _, err := os.Stat(filepath.Join(root, "unified", "cgroup.controllers")); err == nil {
				dir = filepath.Join(root, "unified") // the hybrid layout's v2 tree
			}
		case slices.Contains(strings.Split(parts[1], ","), "memory"):
			dir, limitF, usedF, name = filepath.Join(root, "memory"), "memory.limit_in_bytes", "memory.usage_in_bytes", "memory.limit_in_bytes of the cgroup"
		default:
			continue
		}
		// The cgroup and its ancestors, up to the hierarchy's root.
		for p := filepath.Clean("/" + parts[2]); ; p = filepath.Dir(p) {
			d := filepath.Join(dir, p)
			if lim, ok := readUint(filepath.Join(d, limitF)); ok {
				used, _ := readUint(filepath.Join(d, usedF))
				out = append(out, cgroupLimit{name + " " + p, lim, used})
			}
			if p == "/" {
				break
			}
		}
	}
	return out
}

// readUint reads a number file of the kernel's ("max" is unlimited).
func readUint(path string) (uint64, bool) {
	b, err := ReadFileLimited(path, 64)
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return v, err == nil
}

// Excerpt is s cut to n runes (with "…" when cut) and its control
// characters and invalid bytes escaped (\x1b, \n), for quoting what a user
// typed or a file held in a one-line message: a message never carries an
// escape sequence to the terminal nor more than about n characters of it.
// It reads at most the first 4n bytes of s.
func Excerpt(s string, n int) string {
	var b strings.Builder
	cut := false
	if len(s) > 4*n+4 {
		s, cut = s[:4*n+4], true
	}
	for k, i := 0, 0; i < len(s); k++ {
		if k >= n {
			cut = true
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
		i += size
	}
	if cut {
		b.WriteString("…")
	}
	return b.String()
}

// Quote is Excerpt(s, 40) in double quotes.
func Quote(s string) string { return `"` + Excerpt(s, 40) + `"` }
