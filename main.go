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
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
)

const usage = `reluscope — learning ReLU networks to uniform accuracy is hard; L2 is easy.

usage:
  reluscope [explore flags]  open the interactive explorer (needs a terminal; reluscope explore -h for flags)
  reluscope explore [flags]  the same
  reluscope run [flags]      run one experiment headless (reluscope run -h for flags)
  reluscope sweep PRESET     run a preset's grid of runs, resumable (reluscope sweep -h)
  reluscope report RESULTS   aggregate sweep results as in the paper: table, fits, chart
  reluscope fool [flags]     the fooling pair: a network of the class, zero on every sample, large between
  reluscope presets          list the built-in presets
  reluscope help             this text
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	base := runtime.NumGoroutine()
	err := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if os.Getenv("RELUSCOPE_LEAKCHECK") != "" {
		leakCheck(base)
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "reluscope:", err)
		os.Exit(1)
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

// commands are the words dispatch knows, besides explore.
var commands = []string{"run", "sweep", "report", "fool", "presets", "help"}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "run":
			return cmdRun(ctx, args[1:], stdout, stderr)
		case "sweep":
			return cmdSweep(ctx, args[1:], stdout, stderr)
		case "fool":
			return cmdFool(ctx, args[1:], stdout)
		case "report":
			return cmdReport(args[1:], stdout)
		case "presets":
			return cmdPresets(stdout)
		case "explore":
			return cmdExplore(ctx, args[1:], stdout, stderr)
		case "help", "-h", "-help", "--help":
			fmt.Fprint(stdout, usage+"\nthe explorer's flags (the same as run's, and a few of its own):\n")
			return cmdExplore(ctx, []string{"-h"}, stdout, stderr)
		}
		if !strings.HasPrefix(args[0], "-") {
			return fmt.Errorf("unknown command %q: the commands are explore (the default), %s", args[0], strings.Join(commands, ", "))
		}
	}
	return cmdExplore(ctx, args, stdout, stderr)
}
