package experiment

import (
	"fmt"
	"io"
	"os"
)

// Limits on what reluscope reads from files: a config or preset, a saved
// network, one line of a results file.
const (
	MaxPresetBytes  = 1 << 20
	MaxNetworkBytes = 1 << 30
	MaxRecordBytes  = 64 << 20
)

// ReadFileLimited reads path, which must be a regular file of at most limit
// bytes (not a device, a pipe or a folder: /dev/zero is refused, not read).
func ReadFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d this file may have", path, st.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s grew past %d bytes while being read", path, limit)
	}
	return b, nil
}

// Excerpt is s cut to n runes (with "…" when cut), for quoting what a user
// typed or a file held in a one-line message.
func Excerpt(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
