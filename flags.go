package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/learners"
	"github.com/reluscope/reluscope/presets"
)

// This file is the flag handling every command shares: parsing with
// one-line errors, the config flags of run and the explorer, and the table
// that ties each flag to the config key it sets, so that an error names what
// the user typed (--dim when --dim was given, the key when --set or a preset
// gave it).

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// configFlag ties one flag to the config keys (YAML names) it sets.
type configFlag struct {
	name string
	keys []string
	// define registers the flag, its default taken from d; apply copies the
	// parsed value into cfg.
	define func(fs *flag.FlagSet, d *experiment.Config, usage string)
	apply  func(cfg *experiment.Config) error
	usage  string
}

// configFlags are the flags that build an experiment.Config: a preset, then
// single flags, then --set overrides, each over the one before.
type configFlags struct {
	fs     *flag.FlagSet
	preset string
	sets   multiFlag
	table  []configFlag
	typed  map[string]bool // config keys set by a flag or --set (after config)
	// ignoreMem skips the memory check (--ignore-memory).
	ignoreMem bool
}

// typedKey says whether the user set config key k by a flag or --set (not
// only the preset).
func (c *configFlags) typedKey(k string) bool { return c.typed[k] }

func newConfigFlags(fs *flag.FlagSet, defPreset string) *configFlags {
	c := &configFlags{fs: fs}
	d := experiment.Default()
	if p, err := presets.Load(defPreset); err == nil {
		d = p.Config // -h shows the values a run without flags uses
	}
	fs.StringVar(&c.preset, "preset", defPreset, "preset name or path to a preset .yaml file ("+strings.Join(presets.Names(), ", ")+"); the defaults below are "+defPreset+"'s")
	fs.Var(&c.sets, "set", "override one config value, key=value (repeatable; keys as in the preset YAML, and seed for data_seed and init_seed)")
	fs.BoolVar(&c.ignoreMem, "ignore-memory", false, "run even when the estimated peak memory exceeds 90% of the available memory")
	intF := func(name, key string, ptr func(*experiment.Config) *int, usage string) configFlag {
		var v int
		return configFlag{name: name, keys: []string{key}, usage: usage,
			define: func(fs *flag.FlagSet, d *experiment.Config, u string) { fs.IntVar(&v, name, *ptr(d), u) },
			apply:  func(cfg *experiment.Config) error { *ptr(cfg) = v; return nil }}
	}
	floatF := func(name, key string, ptr func(*experiment.Config) *float64, usage string) configFlag {
		var v float64
		return configFlag{name: name, keys: []string{key}, usage: usage,
			define: func(fs *flag.FlagSet, d *experiment.Config, u string) { fs.Float64Var(&v, name, *ptr(d), u) },
			apply:  func(cfg *experiment.Config) error { *ptr(cfg) = v; return nil }}
	}
	seedF := func(name string, keys []string, ptrs func(*experiment.Config) []*uint64, def bool, usage string) configFlag {
		var v uint64
		return configFlag{name: name, keys: keys, usage: usage,
			define: func(fs *flag.FlagSet, d *experiment.Config, u string) {
				dv := uint64(0)
				if def {
					dv = *ptrs(d)[0]
				}
				fs.Uint64Var(&v, name, dv, u)
			},
			apply: func(cfg *experiment.Config) error {
				for _, p := range ptrs(cfg) {
					*p = v
				}
				return nil
			}}
	}
	strF := func(name, key string, ptr func(*experiment.Config) *string, usage string) configFlag {
		var v string
		return configFlag{name: name, keys: []string{key}, usage: usage,
			define: func(fs *flag.FlagSet, d *experiment.Config, u string) { fs.StringVar(&v, name, *ptr(d), u) },
			apply:  func(cfg *experiment.Config) error { *ptr(cfg) = v; return nil }}
	}
	var batch string
	var noStd, noBias bool
	c.table = []configFlag{
		intF("dim", "dim", func(c *experiment.Config) *int { return &c.Dim }, fmt.Sprintf("input dimension d [1, %d]", experiment.MaxDim)),
		intF("depth", "depth", func(c *experiment.Config) *int { return &c.Depth }, fmt.Sprintf("affine layers L of teacher and student [2, %d]", experiment.MaxDepth)),
		intF("teacher-width", "teacher_width", func(c *experiment.Config) *int { return &c.TeacherWidth }, "teacher hidden width"),
		floatF("coef", "coef", func(c *experiment.Config) *float64 { return &c.Coef }, "teacher coefficient bound c: weights and biases ~ U[-c, c]"),
		intF("student-depth", "student_depth", func(c *experiment.Config) *int { return &c.StudentDepth }, "student affine layers (0: same as --depth)"),
		intF("width", "width", func(c *experiment.Config) *int { return &c.Width }, fmt.Sprintf("student hidden width [1, %d]", experiment.MaxWidth)),
		intF("samples", "samples", func(c *experiment.Config) *int { return &c.Samples }, "training samples m"),
		{name: "batch", keys: []string{"batch"}, usage: "batch: a size (100), a percentage of m (20%) or a fraction (0.2)",
			define: func(fs *flag.FlagSet, d *experiment.Config, u string) {
				fs.StringVar(&batch, "batch", d.Batch.String(), u)
			},
			apply: func(cfg *experiment.Config) error {
				b, err := experiment.ParseBatch(batch)
				cfg.Batch = b
				return err
			}},
		intF("epochs", "epochs", func(c *experiment.Config) *int { return &c.Epochs }, "epochs E"),
		floatF("lr", "lr", func(c *experiment.Config) *float64 { return &c.LR }, "Adam learning rate in the first epoch"),
		floatF("lr-end", "lr_end", func(c *experiment.Config) *float64 { return &c.LREnd }, "learning rate reached after the last epoch (exponential decay per epoch)"),
		{name: "no-standardize", keys: []string{"standardize"}, usage: "feed raw inputs to the student instead of x/σ",
			define: func(fs *flag.FlagSet, _ *experiment.Config, u string) { fs.BoolVar(&noStd, "no-standardize", false, u) },
			apply:  func(cfg *experiment.Config) error { cfg.Standardize = !noStd; return nil }},
		strF("dtype", "dtype", func(c *experiment.Config) *string { return &c.DType }, "float64 or float32"),
		intF("eval-points", "eval_points", func(c *experiment.Config) *int { return &c.EvalPoints }, "fresh uniform evaluation points per checkpoint"),
		intF("eval-every", "eval_every", func(c *experiment.Config) *int { return &c.EvalEvery }, "epochs between checkpoints (0: five checkpoints)"),
		seedF("seed", []string{"data_seed", "init_seed"}, func(c *experiment.Config) []*uint64 { return []*uint64{&c.DataSeed, &c.InitSeed} }, false,
			"seed of the training data and the student's initialization"),
		seedF("teacher-seed", []string{"teacher_seed"}, func(c *experiment.Config) []*uint64 { return []*uint64{&c.TeacherSeed} }, true, "seed of the teacher"),
		seedF("data-seed", []string{"data_seed"}, func(c *experiment.Config) []*uint64 { return []*uint64{&c.DataSeed} }, true, "seed of the training data and evaluation points"),
		seedF("init-seed", []string{"init_seed"}, func(c *experiment.Config) []*uint64 { return []*uint64{&c.InitSeed} }, true, "seed of the student's initialization"),
		strF("teacher", "teacher_file", func(c *experiment.Config) *string { return &c.TeacherFile }, "a saved network (teacher.json or student.json of a saved run) as the teacher; its shape must match --dim, --depth, --teacher-width"),
		strF("init", "init_file", func(c *experiment.Config) *string { return &c.InitFile }, "start the student from a saved network; its shape must match --dim, --depth/--student-depth, --width"),
		strF("learner", "learner", func(c *experiment.Config) *string { return &c.Learner }, learnerUsage()),
		{name: "no-output-bias", keys: []string{"no_output_bias"}, usage: "the learners' networks have no output bias",
			define: func(fs *flag.FlagSet, _ *experiment.Config, u string) {
				fs.BoolVar(&noBias, "no-output-bias", false, u)
			},
			apply: func(cfg *experiment.Config) error { cfg.NoOutputBias = noBias; return nil }},
		strF("discrete-set", "discrete_set", func(c *experiment.Config) *string { return &c.DiscreteSet }, "the discrete learner's parameter values, comma-separated (default -1,0,1)"),
		floatF("net-eps", "net_eps", func(c *experiment.Config) *float64 { return &c.NetEps }, "the enumerate learner's ε (default 0.1)"),
		strF("data", "data_file", func(c *experiment.Config) *string { return &c.DataFile }, "train on the samples of this CSV (x1…xd, y a line, optional header) instead of the teacher's; samples is set from it"),
		strF("backend", "backend", func(c *experiment.Config) *string { return &c.Backend }, "engine: "+strings.Join(backend.Names(), ", ")),
		strF("sup", "sup", func(c *experiment.Config) *string { return &c.Sup },
			"true uniform error sup|student − teacher| (exact in 1-D, a certified bracket otherwise) at the final checkpoint (final), at every one (every), or only the sampled max (sampled)"),
		floatF("sup-seconds", "sup_seconds", func(c *experiment.Config) *float64 { return &c.SupSeconds }, "time limit of each bracket's search in seconds (0: 10)"),
	}
	for _, f := range c.table {
		f.define(fs, &d, f.usage)
	}
	return c
}

// config assembles the Config after parsing: the preset, the flags given,
// then the --set overrides; validated. A rejected value is named as the
// user gave it: --flag for a flag, the key for --set or the preset.
func (c *configFlags) config() (experiment.Config, error) {
	p, err := presets.Load(c.preset)
	if err != nil {
		return experiment.Config{}, err
	}
	cfg := p.Config
	given := map[string]bool{}
	c.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	c.typed = map[string]bool{}
	for _, f := range c.table {
		for _, k := range f.keys {
			c.typed[k] = c.typed[k] || given[f.name]
		}
	}
	for _, kv := range c.sets {
		k, _, _ := strings.Cut(kv, "=")
		for _, key := range presets.SetKeys(strings.TrimSpace(k)) {
			c.typed[key] = true
		}
	}
	byFlag := map[string]string{} // config key → the flag that set it
	var ferr error
	for _, f := range c.table {
		if !given[f.name] {
			continue
		}
		if err := f.apply(&cfg); err != nil && ferr == nil {
			ferr = fmt.Errorf("--%s: %w", f.name, err)
		}
		for _, k := range f.keys {
			byFlag[k] = f.name
		}
	}
	if ferr != nil {
		return cfg, ferr
	}
	for _, kv := range c.sets {
		k, _, _ := strings.Cut(kv, "=")
		for _, key := range presets.SetKeys(strings.TrimSpace(k)) {
			delete(byFlag, key) // the later --set wins, and is named
		}
	}
	cfg, err = presets.Set(cfg, c.sets)
	var fe *experiment.FieldError
	if errors.As(err, &fe) {
		if name, ok := byFlag[fe.Field]; ok {
			return cfg, fmt.Errorf("--%s: %s", name, fe.Msg)
		}
	}
	return cfg, err
}

// parse parses args (flag.ErrHelp after printing the help) and returns the
// validated config.
func (c *configFlags) parse(args []string, stdout io.Writer) (experiment.Config, error) {
	if _, err := parseArgs(c.fs, args, stdout, false); err != nil {
		return experiment.Config{}, err
	}
	cfg, err := c.config()
	if err != nil {
		return cfg, err
	}
	if cfg.DataFile != "" {
		// The samples are the file's: m is its number of lines.
		_, y, err := experiment.LoadData(cfg.DataFile, cfg.Dim)
		if err != nil {
			return cfg, fmt.Errorf("--data: %w", err)
		}
		cfg.Samples = len(y)
		if err := cfg.Validate(); err != nil {
			return cfg, err
		}
	}
	if err := cfg.CheckLearnerSize(); err != nil {
		return cfg, err
	}
	if !c.ignoreMem {
		if err := experiment.CheckMemory(cfg, 0, 1); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// parseArgs parses flags with errors in one line and no usage dump; with
// positional set, flags and positional arguments come in any order and the
// positional ones are returned, else any positional argument is an error.
// -h prints the flags to stdout and returns flag.ErrHelp.
func parseArgs(fs *flag.FlagSet, args []string, stdout io.Writer, positional bool) ([]string, error) {
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
		if !positional {
			return nil, fmt.Errorf("%s: unexpected argument %q (see reluscope %s -h)", fs.Name(), fs.Arg(0), fs.Name())
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// helpOK turns the flag.ErrHelp of a printed -h into success.
func helpOK(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// learnerUsage is the --learner flag's usage, from the learners' registry.
func learnerUsage() string {
	var parts []string
	for _, n := range learners.Names() {
		l, _ := learners.Get(n)
		parts = append(parts, fmt.Sprintf("%s (%s)", n, l.What()))
	}
	return "what fits the student: adam, or for one hidden layer (--student-depth 2) " + strings.Join(parts, ", ")
}
