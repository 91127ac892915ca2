// Command reluscope explores why learning a ReLU network to high uniform
// accuracy needs exponentially many samples while its L2 error falls easily.
//
//	reluscope                 open the interactive explorer
//	reluscope run [flags]     run one experiment headless
//	reluscope sweep PRESET    run a preset's grid (also count, run --index, merge)
//	reluscope report RESULTS  the paper's aggregation, fits and figure
//	reluscope fool [flags]    the fooling network of a class and its samples
//	reluscope presets         list the built-in presets
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/tui"
)

// command is one word of the command line: its arguments and summary in
// the usage, and what runs it.
type command struct {
	name, args, summary string
	run                 func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands are every command, in the usage's order; the explorer is also
// what no command word runs.
var commands []command

func init() {
	commands = []command{
		{"explore", "[flags]", "the same", cmdExplore},
		{"tour", "[flags]", "a guided lecture through the theorem in the explorer (--tour-step N starts at step N)", cmdTour},
		{"run", "[flags]", "run one experiment headless (reluscope run -h for flags)", cmdRun},
		{"sweep", "PRESET", "run a preset's grid of runs, resumable (reluscope sweep -h)", cmdSweep},
		{"report", "RESULTS", "aggregate sweep results as in the paper: table, fits, chart", cmdReport},
		{"fool", "[flags]", "the fooling pair: a network of the class, zero on every sample, large between", cmdFool},
		{"presets", "", "list the built-in presets", cmdPresets},
		{"help", "", "this text", cmdHelp},
	}
}

// usage is the text of reluscope help, made from the command table.
func usage() string {
	var b strings.Builder
	b.WriteString("reluscope — learning ReLU networks to uniform accuracy is hard; L2 is easy.\n\nusage:\n")
	line := func(words, summary string) { fmt.Fprintf(&b, "  reluscope %-15s  %s\n", words, summary) }
	line("[explore flags]", "open the interactive explorer (needs a terminal; reluscope explore -h for flags)")
	for _, c := range commands {
		line(strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	return b.String()
}

// cmdHelp prints the usage and the explorer's flags.
func cmdHelp(ctx context.Context, _ []string, stdout, stderr io.Writer) error {
	fmt.Fprint(stdout, usage()+"\nthe explorer's flags (the same as run's, and a few of its own):\n")
	return cmdExplore(ctx, []string{"-h"}, stdout, stderr)
}

func main() {
	// SIGHUP (the terminal or the ssh connection went away) stops a run as
	// Ctrl-C and SIGTERM do: what is finished is saved, the terminal restored.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	base := runtime.NumGoroutine()
	done := make(chan struct{})
	go stopWithin(ctx, done, stopGrace)
	err := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	close(done)
	if os.Getenv("RELUSCOPE_LEAKCHECK") != "" {
		leakCheck(base)
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "reluscope:", err)
		os.Exit(exitCode(err))
	}
}

// exitCode is the exit status of a command that returned err (not nil):
// an exitError's own, else 1.
func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// The exit statuses besides 0 (done) and 1 (an error: bad input, a file
// that cannot be read or written, a refused run): the README's table.
const (
	// exitIncomplete: sweep status or sweep merge of a grid with runs not
	// finished (missing, failed, in progress) — what they print or write is
	// complete as far as it goes; --allow-partial exits 0 instead (so that a
	// chain "status && merge && report" stops before a partial report).
	exitIncomplete = 3
	// exitRunsFailed: sweep and sweep run finished, their records
	// written, but at least one run failed (diverged, refused by its
	// learner, …): `report` shows them, --retry-failed runs them again.
	exitRunsFailed = 4
	// exitStopped: sweep run stopped by a signal (a time limit's SIGTERM)
	// with its state saved, or before its first checkpoint: the same
	// command goes on (EX_TEMPFAIL; the Slurm scripts requeue on it).
	exitStopped = 75
	// exitInterrupted: stopped by a signal in work that cannot pause.
	exitInterrupted = 130
)

// exitError is an error that ends the program with its own status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// stopGrace is how long a command may go on after SIGINT, SIGTERM or
// SIGHUP: the training loops stop within a step and save what they
// finished; work that cannot be interrupted (a long setup, an exact sup)
// is cut short by stopWithin.
const stopGrace = time.Second

// stopWithin exits the process when the command has not returned grace
// after ctx was cancelled by a signal: every command stops within about a
// second, whatever it was doing. Results on disk are written atomically, so
// nothing is left torn.
func stopWithin(ctx context.Context, done <-chan struct{}, grace time.Duration) {
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		// A run's state being written (sweep run on SIGTERM) is waited
		// for, up to a minute: cut short it would be lost.
		for wait := 0; experiment.SavingState() && wait < 600; wait++ {
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
		tui.RestoreTerminal() // the explorer's, if bubbletea has not yet
		fmt.Fprintln(os.Stderr, "reluscope: interrupted (stopped in work that cannot pause; what was finished before is saved)")
		os.Exit(exitInterrupted)
	}
}

// leakCheck waits up to 3 s for every goroutine started since the count
// base to end; if some are left it prints their stacks and exits 3. The
// whole-program tests turn it on with RELUSCOPE_LEAKCHECK=1.
func leakCheck(base int) {
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "goroutine leak: %d goroutines running at exit, %d at start\n", runtime.NumGoroutine(), base)
			pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
			os.Exit(3)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		word := args[0]
		if word == "-h" || word == "-help" || word == "--help" {
			word = "help"
		}
		var names []string
		for _, c := range commands {
			if c.name == word {
				return c.run(ctx, args[1:], stdout, stderr)
			}
			if c.name != "explore" {
				names = append(names, c.name)
			}
		}
		if !strings.HasPrefix(args[0], "-") {
			return fmt.Errorf("unknown command %q: the commands are explore (the default), %s", args[0], strings.Join(names, ", "))
		}
	}
	return cmdExplore(ctx, args, stdout, stderr)
}
