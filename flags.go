package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
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

// configFlag is one setting's flag: typed as its kind, it is an alias of
// --set KEY=VALUE (its value written back as the YAML of the key).
type configFlag struct {
	name string
	key  string   // the setting's key (seed: both seeds)
	keys []string // the config keys it sets
	// value is the parsed flag as a YAML scalar for its key.
	value func() string
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
	for _, st := range experiment.Settings {
		if st.Flag == "" {
			continue
		}
		c.table = append(c.table, defineFlag(fs, st, d))
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
	for _, f := range c.table {
		if !given[f.name] {
			continue
		}
		// The flag is --set KEY=VALUE, named as typed when it fails.
		kv := f.key + "=" + f.value()
		var err error
		if cfg, err = presets.Apply(cfg, []string{kv}); err != nil {
			_, msg, _ := strings.Cut(err.Error(), ": ")
			return cfg, fmt.Errorf("--%s: %s", f.name, msg)
		}
		for _, k := range f.keys {
			byFlag[k] = f.name
		}
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
			return nil, fmt.Errorf("%s: unexpected argument %s (see reluscope %s -h)", fs.Name(), experiment.Quote(fs.Arg(0)), fs.Name())
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

// defineFlag registers setting st's flag on fs, typed by its kind, its
// default d's value of the key.
func defineFlag(fs *flag.FlagSet, st experiment.Setting, d experiment.Config) configFlag {
	usage := st.Usage
	switch st.Key {
	case "learner":
		usage = learnerUsage()
	case "backend":
		usage = "engine: " + strings.Join(backend.Names(), ", ")
	}
	def := d.Value(st.Key)
	f := configFlag{name: st.Flag, key: st.Key, keys: presets.SetKeys(st.Key)}
	switch st.Kind {
	case experiment.KindInt:
		dv, _ := strconv.Atoi(def)
		v := fs.Int(st.Flag, dv, usage)
		f.value = func() string { return strconv.Itoa(*v) }
	case experiment.KindFloat:
		dv, _ := strconv.ParseFloat(def, 64)
		v := fs.Float64(st.Flag, dv, usage)
		f.value = func() string { return yamlFloat(*v) }
	case experiment.KindSeed:
		var dv uint64
		if !st.NoDefault {
			dv, _ = strconv.ParseUint(def, 10, 64)
		}
		v := fs.Uint64(st.Flag, dv, usage)
		f.value = func() string { return strconv.FormatUint(*v, 10) }
	case experiment.KindBool:
		v := fs.Bool(st.Flag, false, usage)
		f.value = func() string { return strconv.FormatBool(*v != st.Negate) }
	default: // strings and the batch rule
		v := fs.String(st.Flag, def, usage)
		f.value = func() string { return "'" + strings.ReplaceAll(*v, "'", "''") + "'" }
	}
	return f
}

// yamlFloat writes v as YAML reads a float (NaN and ±Inf included, which
// Validate then names).
func yamlFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return ".nan"
	case math.IsInf(v, 1):
		return ".inf"
	case math.IsInf(v, -1):
		return "-.inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// checkOutDir makes dir (with its parents) and checks a file can be
// written in it.
func checkOutDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".reluscope-check*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}
