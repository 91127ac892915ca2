package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/mattn/go-isatty"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/tui"
)

// isTerminal says whether stdin and stdout are a terminal.
func isTerminal() bool {
	return isatty.IsTerminal(os.Stdout.Fd()) && isatty.IsTerminal(os.Stdin.Fd())
}

func cmdExplore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("explore", flag.ContinueOnError)
	cf := newConfigFlags(fs, "default")
	logPath := fs.String("log", filepath.Join(os.TempDir(), "reluscope.log"), "write diagnostics to this file (the screen belongs to the explorer)")
	saveDir := fs.String("results", "results", "folder the save key writes runs into")
	cfg, err := cf.parse(args, stdout)
	if err != nil {
		return helpOK(err)
	}
	if !isTerminal() {
		return errors.New("the explorer needs a terminal, and stdout or stdin is not one; for a headless run use: reluscope run (see reluscope run -h)")
	}
	lf, err := os.OpenFile(*logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	defer lf.Close()
	logger := log.New(lf, "", log.LstdFlags|log.Lmicroseconds)
	var note string
	if e, _ := backend.Get(cfg.Backend); e != nil {
		if err := e.Available(); err != nil {
			note = fmt.Sprintf("backend %s unavailable (%v): using native", cfg.Backend, err)
			cfg.Backend = "native"
		}
	}
	logger.Printf("explorer start, log %s", *logPath)
	return tui.Run(cfg, tui.Options{Context: ctx, SaveDir: *saveDir, Log: logger, Note: note})
}
