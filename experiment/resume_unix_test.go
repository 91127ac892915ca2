//go:build unix

package experiment

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestStateFIFOIsNotOpened: a FIFO where a state belongs is refused
// without opening it (an open(2) of a FIFO with no writer blocks for
// ever), moved aside, and the run starts over.
func TestStateFIFOIsNotOpened(t *testing.T) {
	cfg := resumeConfig("native")
	path := filepath.Join(t.TempDir(), "index-0.state")
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skip("no FIFO here:", err)
	}
	st, note, err := OpenState(path, cfg)
	if err != nil || st != nil || !strings.Contains(note, "not a regular file") {
		t.Fatalf("a FIFO as the state: state %v, note %q, error %v", st != nil, note, err)
	}
	if fi, err := os.Lstat(path + ".corrupt"); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the FIFO was not moved aside: %v", err)
	}
}
