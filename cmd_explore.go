package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/mattn/go-isatty"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/presets"
	"github.com/reluscope/reluscope/tui"
)

// isTerminal says whether stdin and stdout are a terminal.
func isTerminal() bool {
	return isatty.IsTerminal(os.Stdout.Fd()) && isatty.IsTerminal(os.Stdin.Fd())
}

func cmdExplore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return explore(ctx, "explore", args, stdout)
}

// cmdTour opens the explorer on the guided tour of the theorem.
func cmdTour(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return explore(ctx, "tour", args, stdout)
}

// explore runs the explorer; name "tour" opens it on the tour.
func explore(ctx context.Context, name string, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	cf := newConfigFlags(fs, "default")
	tourStep := 1
	if name == "tour" {
		fs.IntVar(&tourStep, "tour-step", 1, fmt.Sprintf("the step to start at, 1 to %d", tui.TourSteps()))
	}
	logPath := fs.String("log", "", "write diagnostics to this file (the screen belongs to the explorer; default: reluscope.log in $XDG_STATE_HOME/reluscope or ~/.local/state/reluscope)")
	saveDir := fs.String("results", "results", "folder the save key writes runs into")
	present := fs.Bool("present", false, "start in the focus view (z) with high-contrast colours, for a class")
	paceFlag := fs.String("pace", "auto", "starting pace in epochs a second (auto: the run lasts about 20 s; full: as fast as the machine goes); < and > change it, F toggles full speed")
	cfg, err := cf.parse(args, stdout)
	if err != nil {
		return helpOK(err)
	}
	if tourStep < 1 || tourStep > tui.TourSteps() {
		return fmt.Errorf("--tour-step %d: the tour's steps are 1 to %d", tourStep, tui.TourSteps())
	}
	var pace float64
	switch *paceFlag {
	case "auto", "":
	case "full":
		pace = math.Inf(1)
	default:
		v, err := strconv.ParseFloat(*paceFlag, 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("--pace: %s is not auto, full or a number of epochs a second > 0", experiment.Quote(*paceFlag))
		}
		pace = v
	}
	var note string
	if cf.preset != "default" && ((cfg.EvalPoints != 0 && !cf.typedKey("eval_points")) || (cfg.EvalEvery != 0 && !cf.typedKey("eval_every"))) {
		every := fmt.Sprintf("every %d epochs", cfg.EvalEvery)
		if cfg.EvalEvery == 0 {
			every = "at five checkpoints"
		}
		note = fmt.Sprintf("the preset's checkpoints (%d points %s) are for headless runs: live curves use the explorer's (--eval-points, --eval-every keep them)", cfg.EvalPoints, every)
	}
	cfg = explorerSettings(cfg, cf.typedKey)
	if !isTerminal() {
		return errors.New("the explorer needs a terminal, and stdout or stdin is not one; for a headless run use: reluscope run (see reluscope run -h)")
	}
	if *logPath == "" {
		dir, err := stateDir()
		if err != nil {
			return fmt.Errorf("log file: %w (or give one with --log)", err)
		}
		*logPath = filepath.Join(dir, "reluscope.log")
	}
	lf, err := openLog(*logPath)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	defer lf.Close()
	logger := log.New(lf, "", log.LstdFlags|log.Lmicroseconds)
	if e, _ := backend.Get(cfg.Backend); e != nil {
		if err := e.Available(); err != nil {
			note = fmt.Sprintf("backend %s unavailable (%v): using native", cfg.Backend, err)
			cfg.Backend = "native"
		}
	}
	logger.Printf("explorer start, log %s", *logPath)
	base, err := presets.Load(cf.preset)
	if err != nil {
		return err
	}
	return tui.Run(cfg, tui.Options{Context: ctx, SaveDir: *saveDir, Log: logger, Note: note, Pace: pace, IgnoreMemory: cf.ignoreMem,
		Preset: cf.preset, Base: base.Config, Present: *present, Tour: name == "tour", TourStep: tourStep - 1})
}

// explorerSettings leaves the checkpoints the user did not ask for (by a
// flag or --set; a preset's are for headless runs) to the explorer.
func explorerSettings(cfg experiment.Config, typed func(key string) bool) experiment.Config {
	if !typed("eval_points") {
		cfg.EvalPoints = 0
	}
	if !typed("eval_every") {
		cfg.EvalEvery = 0
	}
	return cfg
}

// stateDir is the user's own folder for reluscope's diagnostics
// ($XDG_STATE_HOME/reluscope, else ~/.local/state/reluscope), made private.
func stateDir() (string, error) {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		base = filepath.Join(home, ".local", "state")
	}
	dir := filepath.Join(base, "reluscope")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return dir, nil
}
