// Command reluscope explores why learning a ReLU network to high uniform
// accuracy needs exponentially many samples while its L2 error falls easily.
//
//	reluscope                 open the interactive explorer
//	reluscope run [flags]     run one experiment headless
//	reluscope presets         list the built-in presets
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `reluscope — learning ReLU networks to uniform accuracy is hard; L2 is easy.

usage:
  reluscope [explore flags]  open the interactive explorer (needs a terminal)
  reluscope run [flags]      run one experiment headless (reluscope run -h for flags)
  reluscope presets          list the built-in presets
  reluscope help             this text
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "reluscope:", err)
		os.Exit(1)
	}
}

// exitError ends the program with a code after its message was printed.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "run":
			return cmdRun(ctx, args[1:], stdout, stderr)
		case "presets":
			return cmdPresets(stdout)
		case "help", "-h", "-help", "--help":
			fmt.Fprint(stdout, usage)
			return nil
		}
	}
	return cmdExplore(ctx, args, stdout, stderr)
}
