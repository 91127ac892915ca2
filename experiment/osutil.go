package experiment

// The operating system's side of reluscope, in one place: limited reads of
// regular files, atomic writes, the memory the machine has, and the
// quoting and formatting of what messages show.

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what reluscope reads from files: a config or preset, a saved
// network, one line of a results file.
const (
	MaxPresetBytes  = 1 << 20
	MaxNetworkBytes = 1 << 30
	MaxRecordBytes  = 64 << 20
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

// WriteFileAtomic writes data to a temporary file beside path, fsyncs it and
// renames it over path, so a reader sees the old file or the new one, never
// a torn one.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after the rename
	// Everything a user is meant to read gets one mode: 0644 less the umask
	// (CreateTemp makes 0600).
	if err := f.Chmod(os.FileMode(0o644 &^ umask)); err != nil {
		f.Close()
		return err
	}
	if err := writeSyncClose(f, data); err != nil {
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

// writeSyncClose writes data to f in one call, fsyncs and closes it; f is
// closed whatever fails.
func writeSyncClose(f *os.File, data []byte) error {
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

// MemAvailable is the memory the system says it can give without swapping
// (MemAvailable of /proc/meminfo), or 0 where that is unknown.
// RELUSCOPE_MEM_AVAILABLE (bytes) overrides it, so that tests refuse the
// same configs on any machine.
//
// A RELUSCOPE_MEM_AVAILABLE that is not a positive number of bytes is an
// error, not a guard turned off.
func MemAvailable() (uint64, error) {
	if v, ok := os.LookupEnv("RELUSCOPE_MEM_AVAILABLE"); ok {
		b, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil || b == 0 {
			return 0, fmt.Errorf("RELUSCOPE_MEM_AVAILABLE=%s: want the available memory in bytes, a whole number > 0", Quote(v))
		}
		return b, nil
	}
	return memInfo(), nil
}

// memInfo is /proc/meminfo's MemAvailable, or 0 where that is unknown.
func memInfo() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// Bytes writes a size in KiB, MiB or GiB.
func Bytes(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10))
}
