package tui

import (
	"context"
	"errors"
	"os"

	osc52 "github.com/aymanbagabas/go-osc52/v2"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/reluscope/reluscope/experiment"
)

// Run opens the explorer on the terminal and returns when the user quits.
func Run(cfg experiment.Config, opt Options) error {
	if opt.Clipboard == nil {
		opt.Clipboard = func(s string) {
			seq := osc52.New(s)
			if os.Getenv("TMUX") != "" {
				seq = seq.Tmux()
			}
			seq.WriteTo(os.Stdout) // one write: between two frames
		}
	}
	m := New(cfg, opt)
	saveTerminal()
	defer quitOnSIGQUIT()()
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithMouseCellMotion(), tea.WithContext(m.opt.Context))
	final, err := p.Run()
	// bubbletea has restored the terminal; a watchdog exit while the runs
	// stop (Close) must not write the reset over the shell's screen.
	forgetTerminal()
	if fm, ok := final.(Model); ok {
		fm.Close()
	}
	if err != nil && !cancelled(err) {
		return err
	}
	return nil
}

// cancelled is true when the program ended because its context was
// cancelled (Ctrl-C, SIGTERM), not because it failed or panicked.
func cancelled(err error) bool {
	return errors.Is(err, context.Canceled) ||
		(errors.Is(err, tea.ErrProgramKilled) && !errors.Is(err, tea.ErrProgramPanic))
}
