package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/presets"
)

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// configFlags are the flags that build an experiment.Config: a preset, then
// single flags, then --set overrides, each over the one before.
type configFlags struct {
	fs     *flag.FlagSet
	preset string
	sets   multiFlag
	seed   uint64
	batch  string
	noStd  bool
	cfg    experiment.Config // receives the single flags
}

func newConfigFlags(fs *flag.FlagSet, defPreset string) *configFlags {
	c := &configFlags{fs: fs, cfg: experiment.Default()}
	if p, err := presets.Load(defPreset); err == nil {
		c.cfg = p.Config // -h shows the values a run without flags uses
	}
	d := &c.cfg
	fs.StringVar(&c.preset, "preset", defPreset, "preset name or path to a preset .yaml file ("+strings.Join(presets.Names(), ", ")+"); the defaults below are "+defPreset+"'s")
	fs.Var(&c.sets, "set", "override one config value, key=value (repeatable; keys as in the preset YAML)")
	fs.IntVar(&d.Dim, "dim", d.Dim, fmt.Sprintf("input dimension d [1, %d]", experiment.MaxDim))
	fs.IntVar(&d.Depth, "depth", d.Depth, fmt.Sprintf("affine layers L of teacher and student [2, %d]", experiment.MaxDepth))
	fs.IntVar(&d.TeacherWidth, "teacher-width", d.TeacherWidth, "teacher hidden width")
	fs.Float64Var(&d.Coef, "coef", d.Coef, "teacher coefficient bound c: weights and biases ~ U[-c, c]")
	fs.IntVar(&d.StudentDepth, "student-depth", 0, "student affine layers (0: same as --depth)")
	fs.IntVar(&d.Width, "width", d.Width, fmt.Sprintf("student hidden width [1, %d]", experiment.MaxWidth))
	fs.IntVar(&d.Samples, "samples", d.Samples, "training samples m")
	fs.StringVar(&c.batch, "batch", d.Batch.String(), "batch: a size (100), a percentage of m (20%) or a fraction (0.2)")
	fs.IntVar(&d.Epochs, "epochs", d.Epochs, "epochs E")
	fs.Float64Var(&d.LR, "lr", d.LR, "Adam learning rate in the first epoch")
	fs.Float64Var(&d.LREnd, "lr-end", d.LREnd, "learning rate reached after the last epoch (exponential decay per epoch)")
	fs.BoolVar(&c.noStd, "no-standardize", false, "feed raw inputs to the student instead of x/σ")
	fs.StringVar(&d.DType, "dtype", d.DType, "float64 or float32")
	fs.IntVar(&d.EvalPoints, "eval-points", d.EvalPoints, "fresh uniform evaluation points per checkpoint")
	fs.IntVar(&d.EvalEvery, "eval-every", d.EvalEvery, "epochs between checkpoints (0: five checkpoints)")
	fs.Uint64Var(&c.seed, "seed", 0, "seed of the training data and the student's initialization")
	fs.Uint64Var(&d.TeacherSeed, "teacher-seed", d.TeacherSeed, "seed of the teacher")
	fs.Uint64Var(&d.DataSeed, "data-seed", d.DataSeed, "seed of the training data and evaluation points")
	fs.Uint64Var(&d.InitSeed, "init-seed", d.InitSeed, "seed of the student's initialization")
	fs.StringVar(&d.Backend, "backend", d.Backend, "engine: "+strings.Join(backend.Names(), ", "))
	return c
}

// config assembles the Config after parsing.
func (c *configFlags) config() (experiment.Config, error) {
	p, err := presets.Load(c.preset)
	if err != nil {
		return experiment.Config{}, err
	}
	cfg := p.Config
	var ferr error
	c.fs.Visit(func(f *flag.Flag) {
		d := &c.cfg
		switch f.Name {
		case "dim":
			cfg.Dim = d.Dim
		case "depth":
			cfg.Depth = d.Depth
		case "teacher-width":
			cfg.TeacherWidth = d.TeacherWidth
		case "coef":
			cfg.Coef = d.Coef
		case "student-depth":
			cfg.StudentDepth = d.StudentDepth
		case "width":
			cfg.Width = d.Width
		case "samples":
			cfg.Samples = d.Samples
		case "batch":
			b, err := experiment.ParseBatch(c.batch)
			if err != nil {
				ferr = err
			}
			cfg.Batch = b
		case "epochs":
			cfg.Epochs = d.Epochs
		case "lr":
			cfg.LR = d.LR
		case "lr-end":
			cfg.LREnd = d.LREnd
		case "no-standardize":
			cfg.Standardize = !c.noStd
		case "dtype":
			cfg.DType = d.DType
		case "eval-points":
			cfg.EvalPoints = d.EvalPoints
		case "eval-every":
			cfg.EvalEvery = d.EvalEvery
		case "seed":
			cfg.DataSeed, cfg.InitSeed = c.seed, c.seed
		case "teacher-seed":
			cfg.TeacherSeed = d.TeacherSeed
		case "data-seed":
			cfg.DataSeed = d.DataSeed
		case "init-seed":
			cfg.InitSeed = d.InitSeed
		case "backend":
			cfg.Backend = d.Backend
		}
	})
	if ferr != nil {
		return cfg, ferr
	}
	cfg, err = presets.Set(cfg, c.sets)
	if err != nil {
		return cfg, flagError(err)
	}
	return cfg, nil
}

// parse parses args (flag.ErrHelp after printing the help) and returns the
// validated config.
func (c *configFlags) parse(args []string, stdout io.Writer) (experiment.Config, error) {
	if err := parseFlags(c.fs, args, stdout); err != nil {
		return experiment.Config{}, err
	}
	return c.config() // validated by presets.Set
}

// flagError rewrites a config field name into the flag that sets it.
func flagError(err error) error {
	if err == nil {
		return nil
	}
	var fe *experiment.FieldError
	if errors.As(err, &fe) {
		return fmt.Errorf("--%s: %s", strings.ReplaceAll(fe.Field, "_", "-"), fe.Msg)
	}
	return err
}

// parseFlags parses args with errors reported in one line, no usage dump.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fmt.Fprintf(stdout, "usage: reluscope %s [flags]\n", fs.Name())
		fs.PrintDefaults()
		return err
	}
	if err != nil {
		return fmt.Errorf("%s: %w (see reluscope %s -h)", fs.Name(), err, fs.Name())
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q (see reluscope %s -h)", fs.Name(), fs.Arg(0), fs.Name())
	}
	return nil
}

// parsePositional parses flags and positional arguments in any order and
// returns the positional ones.
func parsePositional(fs *flag.FlagSet, args []string, stdout io.Writer) ([]string, error) {
	var pos []string
	fs.SetOutput(io.Discard)
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprintf(stdout, "usage: reluscope %s [flags]\n", fs.Name())
			fs.PrintDefaults()
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w (see reluscope %s -h)", fs.Name(), err, fs.Name())
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	cf := newConfigFlags(fs, "default")
	asJSON := fs.Bool("json", false, "write one JSON object per event to stdout instead of text")
	out := fs.String("out", "", "save the config, metric history (CSV) and both networks (JSON) to this folder")
	cfg, err := cf.parse(args, stdout)
	if err != nil {
		return helpOK(err)
	}
	enc := json.NewEncoder(stdout)
	if !*asJSON {
		fmt.Fprintf(stdout, "teacher %v (c=%g, %d params)  student %v (%d params)  m=%d batch=%d  %d epochs  lr %.3g→%.3g  %s/%s\n",
			cfg.TeacherSizes(), cfg.Coef, backend.NumParams(cfg.TeacherSizes()), cfg.StudentSizes(), backend.NumParams(cfg.StudentSizes()),
			cfg.Samples, cfg.BatchSize(), cfg.Epochs, cfg.LR, cfg.LREnd, cfg.Backend, cfg.DType)
		fmt.Fprintf(stdout, "%7s %10s %11s %11s %11s %11s  %s\n", "epoch", "lr", "train mse", "L1", "L2", "L∞", "worst at")
	}
	var res *experiment.Result
	var runErr error
	for ev := range experiment.Start(ctx, cfg, experiment.Options{}) {
		if *asJSON {
			if err := enc.Encode(ev); err != nil {
				return err
			}
		} else {
			for _, c := range ev.Checkpoints {
				tl := "—"
				if c.Epoch > 0 {
					tl = fmt.Sprintf("%.4e", c.TrainLoss)
				}
				fmt.Fprintf(stdout, "%7d %10.3e %11s %11.4e %11.4e %11.4e  x=%s\n", c.Epoch, c.LR, tl, c.L1, c.L2, c.Linf, point(c.ArgMax))
			}
		}
		if ev.Kind == experiment.KindDone {
			res, runErr = ev.Result, ev.Err
		}
	}
	if res != nil && !*asJSON {
		summary(stdout, res)
	}
	if *out != "" && res != nil {
		if err := experiment.SaveRun(*out, res); err != nil {
			return fmt.Errorf("saving to %s: %w", *out, err)
		}
		if !*asJSON {
			fmt.Fprintf(stdout, "saved to %s\n", *out)
		}
	}
	if runErr != nil {
		if errors.Is(runErr, context.Canceled) {
			return errors.New("interrupted")
		}
		return flagError(runErr)
	}
	return nil
}

func summary(w io.Writer, res *experiment.Result) {
	f := res.Final()
	if f == nil {
		return
	}
	sps := float64(res.Steps) / math.Max(res.Elapsed.Seconds(), 1e-9)
	fmt.Fprintf(w, "done in %s: %d epochs, %d Adam steps (%.0f steps/s)\n", res.Elapsed.Round(time.Millisecond), f.Epoch, res.Steps, sps)
	fmt.Fprintf(w, "final errors over %d fresh points: L1 %.4e  L2 %.4e  L∞ %.4e  (L∞/L2 = %.1f)  worst at x=%s\n",
		f.N, f.L1, f.L2, f.Linf, f.Linf/f.L2, point(f.ArgMax))
}

func point(x []float64) string {
	parts := make([]string, len(x))
	for i, v := range x {
		parts[i] = fmt.Sprintf("%.4f", v)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func cmdPresets(w io.Writer) error {
	all, err := presets.All()
	if err != nil {
		return err
	}
	for _, p := range all {
		fmt.Fprintf(w, "%-12s %s\n", p.Name, p.Description)
	}
	return nil
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
