package tui

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/charmbracelet/x/term"
)

// TestRestoreTerminal: with the explorer holding the terminal, a restore
// writes the sequences that turn the mouse reports off, show the cursor
// and leave the alternate screen, once; after forgetTerminal (bubbletea
// gave it back) or without a terminal it writes nothing.
func TestRestoreTerminal(t *testing.T) {
	out, err := os.Create(filepath.Join(t.TempDir(), "tty"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	saveTerminal() // stdin is not a terminal under go test: nothing saved
	RestoreTerminal()
	termMu.Lock()
	termState, termOut, termIn = &term.State{}, out, out.Fd()
	termMu.Unlock()
	RestoreTerminal()
	RestoreTerminal() // a second time: nothing more
	b, _ := os.ReadFile(out.Name())
	if string(b) != resetSeq {
		t.Fatalf("wrote %q, want the reset %q once", b, resetSeq)
	}
	termMu.Lock()
	termState = &term.State{}
	termMu.Unlock()
	forgetTerminal()
	RestoreTerminal()
	if b, _ := os.ReadFile(out.Name()); string(b) != resetSeq {
		t.Fatalf("a restore after forgetTerminal wrote %q", b[len(resetSeq):])
	}
	// The SIGQUIT handler starts and stops without leaving a goroutine
	// (the package's leak check runs at its end).
	quitOnSIGQUIT()()
}
