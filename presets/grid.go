package presets

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/reluscope/reluscope/experiment"
)

// Sweep is a preset's grid: an ordered list of axes whose cartesian product
// is the set of runs, the first axis outermost. In YAML each axis is one of
//
//   - samples: [100, 1000]            # one key, a list of values
//   - teacher_seed: {from: 0, count: 40}  # one key, a range of integers
//   - [{batch: 20%, epochs: 5000}, {batch: 100, epochs: 1000}]  # groups
//
// The key "seed" sets data_seed and init_seed together.
type Sweep struct {
	Axes []Axis
}

// Axis is one dimension of the grid.
type Axis struct {
	Name   string     // the key, or the keys of the groups joined with "+"
	Values []Override // the settings each position applies
}

// Override is one position of an axis: YAML config fields to set.
type Override struct {
	Label string // "width=512", "batch=20% epochs=5000"
	YAML  string
	// set is YAML compiled (compileYAML): applied to a config by copying
	// fields, without decoding YAML for every run of a large grid.
	set *assignment
}

// Len is the number of runs.
func (s *Sweep) Len() int {
	if s == nil {
		return 1
	}
	n := 1
	for _, a := range s.Axes {
		n *= len(a.Values)
	}
	return n
}

// Limit keeps the first n values of the axis named name.
func (s *Sweep) Limit(name string, n int) error {
	if s == nil {
		return fmt.Errorf("--limit %s=%d: the preset has no sweep", name, n)
	}
	for i, a := range s.Axes {
		if a.Name == name || strings.Contains("+"+a.Name+"+", "+"+name+"+") {
			if n < 1 {
				return fmt.Errorf("--limit %s=%d: keep at least 1 value", name, n)
			}
			s.Axes[i].Values = a.Values[:min(n, len(a.Values))]
			return nil
		}
	}
	var names []string
	for _, a := range s.Axes {
		names = append(names, a.Name)
	}
	return fmt.Errorf("--limit: no axis %s (axes: %s)", experiment.Quote(name), strings.Join(names, ", "))
}

// RunConfig is run i's config: the base, then each axis's override, then
// the sets ("key=value"); validated.
func (p Preset) RunConfig(i int, sets []string) (experiment.Config, error) {
	n := p.Sweep.Len()
	if i < 0 || i >= n {
		return experiment.Config{}, fmt.Errorf("run index %d is out of range [0, %d)", i, n)
	}
	return p.configAt(p.Sweep.position(i), sets)
}

// position is run i's value index on each axis: mixed radix, the last
// axis fastest (nil without a sweep).
func (s *Sweep) position(i int) []int {
	if s == nil {
		return nil
	}
	idx := make([]int, len(s.Axes))
	for k := len(s.Axes) - 1; k >= 0; k-- {
		l := len(s.Axes[k].Values)
		idx[k] = i % l
		i /= l
	}
	return idx
}

// configAt is the config at the position idx of the grid (one value index
// per axis), the sets applied.
func (p Preset) configAt(idx []int, sets []string) (experiment.Config, error) {
	cfg, err := p.axesAt(idx)
	if err != nil {
		return cfg, err
	}
	return Set(cfg, sets)
}

// axesAt is the base config with each axis's override at idx applied.
func (p Preset) axesAt(idx []int) (experiment.Config, error) {
	cfg := p.Config
	if p.Sweep == nil {
		return cfg, nil
	}
	for k, a := range p.Sweep.Axes {
		o := a.Values[idx[k]]
		if o.set != nil {
			o.set.apply(&cfg)
			continue
		}
		if err := decodeInto(&cfg, o.YAML); err != nil {
			return cfg, fmt.Errorf("%s: axis %s: %v", p.Source, a.Name, err)
		}
	}
	return cfg, nil
}

// index is the run index of the position idx (the inverse of RunConfig's).
func (p Preset) index(idx []int) int {
	i := 0
	for k, a := range p.Sweep.Axes {
		i = i*len(a.Values) + idx[k]
	}
	return i
}

// Probe checks the grid without building every run: each value of each
// axis with the first values of the others, the sets applied, validated
// and sized (check). It returns the run made of each axis's value whose
// probe is largest by size — the grid's largest run when size grows with
// each setting on its own, as memory does with width, samples and depth.
// A sum of the axes' lengths is built, not their product; a combination
// that only fails with another axis's later value is found when the
// sweep builds its runs.
func (p Preset) Probe(sets []string, check func(experiment.Config) error, size func(experiment.Config) float64) (experiment.Config, error) {
	if p.Sweep == nil {
		cfg, err := p.configAt(nil, sets)
		if err == nil {
			err = check(cfg)
		}
		return cfg, err
	}
	idx := make([]int, len(p.Sweep.Axes))
	best := make([]int, len(p.Sweep.Axes))
	for k, a := range p.Sweep.Axes {
		top := -1.0
		for v := range a.Values {
			idx[k] = v
			cfg, err := p.configAt(idx, sets)
			if err == nil {
				err = check(cfg)
			}
			if err != nil {
				return cfg, fmt.Errorf("run %d: %w", p.index(idx), err)
			}
			if s := size(cfg); s > top {
				top, best[k] = s, v
			}
		}
		idx[k] = 0
	}
	cfg, err := p.configAt(best, sets)
	if err == nil {
		err = check(cfg)
	}
	if err != nil {
		return cfg, fmt.Errorf("run %d: %w", p.index(best), err)
	}
	return cfg, nil
}

func decodeInto(cfg *experiment.Config, src string) error {
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		return fmt.Errorf("%s", yamlMsg(err))
	}
	return nil
}

// parseSweep reads the sweep: list of the preset file.
func parseSweep(source string, nodes []yaml.Node, base experiment.Config) (*Sweep, error) {
	if len(nodes) == 0 {
		return nil, nil
	}
	s := &Sweep{}
	for _, n := range nodes {
		a, err := parseAxis(&n)
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: sweep: %v", source, n.Line, err)
		}
		s.Axes = append(s.Axes, a)
	}
	// The number of runs, counted without overflow before anything is
	// checked run by run: a grid past MaxRuns is refused with its size.
	runs := 1.0
	var dims []string
	for _, a := range s.Axes {
		runs *= float64(len(a.Values))
		dims = append(dims, strconv.Itoa(len(a.Values)))
	}
	if runs > MaxRuns {
		return nil, fmt.Errorf("%s: the sweep has %s = %.3g runs, more than the %d a sweep may have", source, strings.Join(dims, " × "), runs, MaxRuns)
	}
	// Each value must apply cleanly to the base on its own.
	for k, a := range s.Axes {
		line := nodes[k].Line
		for _, v := range a.Values {
			c := base
			if err := decodeInto(&c, v.YAML); err != nil {
				return nil, fmt.Errorf("%s: line %d: sweep %s: %v", source, line, v.Label, err)
			}
			if err := c.Validate(); err != nil {
				return nil, fmt.Errorf("%s: line %d: sweep %s: %v", source, line, v.Label, err)
			}
		}
	}
	return s, nil
}

// Limits of a sweep: values on one axis, runs in the grid.
const (
	MaxAxisValues = 100_000
	MaxRuns       = 10_000_000
)

// scalarValue refuses an axis value that is not one plain value of key: a
// list or map, a tag, a line break, a fraction of a whole number.
func scalarValue(key string, v *yaml.Node) error {
	if v.Kind != yaml.ScalarNode {
		return fmt.Errorf("%s: values must be scalars", experiment.Quote(key))
	}
	if v.Style&yaml.TaggedStyle != 0 {
		return fmt.Errorf("%s: a value with a YAML tag (%s) is not a plain value", key, experiment.Excerpt(v.Tag, 16))
	}
	return checkSetting(key, v.Value)
}

func parseAxis(n *yaml.Node) (Axis, error) {
	switch n.Kind {
	case yaml.MappingNode:
		if len(n.Content) != 2 {
			return Axis{}, fmt.Errorf("an axis is one key with a list or range, or a list of groups")
		}
		key, val := n.Content[0].Value, n.Content[1]
		if !keyRe.MatchString(key) {
			return Axis{}, fmt.Errorf("%s: an axis's key is a config name (letters, digits, _)", experiment.Quote(key))
		}
		a := Axis{Name: key}
		var vals []string
		switch val.Kind {
		case yaml.SequenceNode:
			if len(val.Content) > MaxAxisValues {
				return a, fmt.Errorf("%s: a list of %d values; an axis has at most %d", key, len(val.Content), MaxAxisValues)
			}
			for _, v := range val.Content {
				if err := scalarValue(key, v); err != nil {
					return a, err
				}
				vals = append(vals, v.Value)
			}
		case yaml.MappingNode:
			var r struct {
				From  *int `yaml:"from"`
				Count *int `yaml:"count"`
			}
			if err := val.Decode(&r); err != nil || r.From == nil || r.Count == nil || *r.Count < 1 {
				return a, fmt.Errorf("%s: a range is {from: N, count: K} with K ≥ 1", key)
			}
			if *r.Count > MaxAxisValues {
				return a, fmt.Errorf("%s: a range of %d values; an axis has at most %d", key, *r.Count, MaxAxisValues)
			}
			if *r.From > math.MaxInt-*r.Count || *r.From < -1<<53 {
				return a, fmt.Errorf("%s: a range from %d by %d values overflows", key, *r.From, *r.Count)
			}
			for k := 0; k < *r.Count; k++ {
				vals = append(vals, strconv.Itoa(*r.From+k))
			}
		default:
			return a, fmt.Errorf("%s: want a list [a, b] or a range {from: N, count: K}", key)
		}
		if len(vals) == 0 {
			return a, fmt.Errorf("%s: no values", key)
		}
		for _, v := range vals {
			a.Values = append(a.Values, Override{Label: key + "=" + v, YAML: setting(key, v)})
		}
		return a, compileAxis(&a)
	case yaml.SequenceNode:
		a := Axis{}
		if len(n.Content) == 0 {
			return a, fmt.Errorf("an empty list of groups: the sweep would have no runs")
		}
		if len(n.Content) > MaxAxisValues {
			return a, fmt.Errorf("a list of %d groups; an axis has at most %d", len(n.Content), MaxAxisValues)
		}
		for _, g := range n.Content {
			if g.Kind != yaml.MappingNode || len(g.Content) == 0 {
				return a, fmt.Errorf("a group is a map of settings, like {batch: 20%%, epochs: 5000}")
			}
			var keys, labels, lines []string
			for k := 0; k+1 < len(g.Content); k += 2 {
				key, v := g.Content[k].Value, g.Content[k+1]
				if err := scalarValue(key, v); err != nil {
					return a, err
				}
				keys = append(keys, key)
				labels = append(labels, key+"="+v.Value)
				lines = append(lines, setting(key, v.Value))
			}
			if a.Name == "" {
				a.Name = strings.Join(keys, "+")
			}
			a.Values = append(a.Values, Override{Label: strings.Join(labels, " "), YAML: strings.Join(lines, "")})
		}
		return a, compileAxis(&a)
	}
	return Axis{}, fmt.Errorf("an axis is one key with a list or range, or a list of groups")
}

// setting is the YAML of key=value; "seed" sets data and init seeds.
func setting(key, v string) string {
	var b strings.Builder
	for _, k := range SetKeys(key) {
		b.WriteString(k + ": " + v + "\n")
	}
	return b.String()
}

// Grid is a preset's runs with --set overrides applied after the grid's
// own, built one at a time by index: a sweep of millions of runs is walked,
// never listed. The overrides are compiled once (NewGrid), so building a
// run copies fields instead of decoding YAML.
type Grid struct {
	p    Preset
	sets []*assignment
	// variant is the hash of the base config with the sets (Job.Variant).
	variant string
}

// NewGrid compiles the sets for p's runs.
func (p Preset) NewGrid(sets []string) (*Grid, error) {
	a, err := compileSets(sets)
	if err != nil {
		return nil, err
	}
	base := p.Config
	for _, s := range a {
		s.apply(&base)
	}
	base.Normalize()
	return &Grid{p: p, sets: a, variant: experiment.ConfigHash(base)[:12]}, nil
}

// Variant is the grid's variant: the first 12 digits of the hash of the
// preset's base config with the sets applied.
func (g *Grid) Variant() string { return g.variant }

// Len is the number of runs.
func (g *Grid) Len() int { return g.p.Sweep.Len() }

// Job is run i, validated: the same config as Preset.RunConfig(i, sets).
func (g *Grid) Job(i int) (experiment.Job, error) {
	n := g.Len()
	if i < 0 || i >= n {
		return experiment.Job{}, fmt.Errorf("run index %d is out of range [0, %d)", i, n)
	}
	cfg, err := g.p.axesAt(g.p.Sweep.position(i))
	if err != nil {
		return experiment.Job{}, err
	}
	for _, a := range g.sets {
		a.apply(&cfg)
	}
	cfg.Normalize()
	return experiment.Job{Index: i, Config: cfg, Variant: g.variant}, cfg.Validate()
}
