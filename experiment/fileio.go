package experiment

import (
	"os"
	"path/filepath"
)

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
