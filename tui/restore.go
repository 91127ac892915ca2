package tui

import (
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"syscall"

	"github.com/charmbracelet/x/term"
)

// The terminal as it was before the explorer took it over, for the exits
// that do not pass through bubbletea's own restore: the hard-exit
// watchdog, SIGQUIT.
var (
	termMu    sync.Mutex
	termState *term.State // nil: nothing to restore
	termOut   *os.File
	termIn    uintptr
)

// resetSeq turns off what the explorer turns on: every mouse report mode
// and SGR coordinates, bracketed paste, focus reports; shows the cursor and
// leaves the alternate screen.
const resetSeq = "\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?2004l\x1b[?1004l\x1b[?25h\x1b[?1049l"

// saveTerminal records the terminal's state before the explorer starts.
func saveTerminal() {
	termMu.Lock()
	defer termMu.Unlock()
	if !term.IsTerminal(os.Stdin.Fd()) {
		return
	}
	st, err := term.GetState(os.Stdin.Fd())
	if err != nil {
		return
	}
	termState, termOut, termIn = st, os.Stdout, os.Stdin.Fd()
}

// forgetTerminal: the explorer has given the terminal back itself.
func forgetTerminal() {
	termMu.Lock()
	termState = nil
	termMu.Unlock()
}

// RestoreTerminal gives the terminal back as it was before the explorer
// started, if the explorer holds it: the mouse reports off, the cursor
// shown, the main screen, the line discipline restored. For an exit that
// skips the explorer's own restore (os.Exit from another goroutine); safe
// from any goroutine, a no-op when the explorer is not running.
func RestoreTerminal() {
	termMu.Lock()
	defer termMu.Unlock()
	if termState == nil {
		return
	}
	termOut.WriteString(resetSeq)
	term.Restore(termIn, termState)
	termState = nil
}

// quitOnSIGQUIT makes SIGQUIT (Ctrl-\) end the explorer as Go ends a
// program on it — every goroutine's stack on stderr, exit 2 — but with the
// terminal given back first. The returned function stops it.
func quitOnSIGQUIT() (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGQUIT)
	done := make(chan struct{})
	go func() {
		select {
		case <-ch:
			RestoreTerminal()
			pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
			os.Exit(2)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
