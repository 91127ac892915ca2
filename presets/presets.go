// Package presets holds reluscope's named configurations as embedded YAML
// files and loads users' files of the same schema:
//
//	name: quick                 # optional; defaults to the file name
//	description: one line shown by `reluscope presets`
//	config:                     # any experiment.Config field by its yaml name;
//	  dim: 1                    # fields left out keep experiment.Default()
//	  samples: 1000
//	  batch: 20%                # a percentage, a fraction (0.2) or a size (100)
//	sweep:                      # optional: a grid of runs, see Sweep
//	  - samples: [100, 1000]
//
// Unknown keys are errors, and so is any value experiment.Config.Validate
// rejects; errors name the file, the line and the field.
package presets

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/internal/osutil"
)

//go:embed *.yaml
var files embed.FS

// Preset is a named configuration.
type Preset struct {
	Name        string
	Description string
	Config      experiment.Config
	// Source is the embedded file name or the user's path.
	Source string
	// Sweep is the grid of runs, nil for a single run.
	Sweep *Sweep
}

type file struct {
	Name        string            `yaml:"name"`
	Description string            `yaml:"description"`
	Config      experiment.Config `yaml:"config"`
	Sweep       []yaml.Node       `yaml:"sweep"`
}

// Names lists the built-in presets in sorted order.
func Names() []string {
	ents, _ := files.ReadDir(".")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(out)
	return out
}

// All loads every built-in preset.
func All() ([]Preset, error) {
	var out []Preset
	for _, n := range Names() {
		p, err := Load(n)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Load returns a built-in preset by name, or reads a user's file when name
// ends in .yaml or .yml or contains a path separator; a .json file is a
// saved run's config.json (run --out, the explorer's save), reopened as a
// preset of that one config.
func Load(name string) (Preset, error) {
	if strings.HasSuffix(name, ".json") {
		b, err := osutil.ReadFileLimited(name, experiment.MaxPresetBytes)
		if err != nil {
			return Preset{}, fmt.Errorf("config file: %w", err)
		}
		return ParseConfig(name, b)
	}
	if strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml") || strings.ContainsRune(name, filepath.Separator) {
		b, err := osutil.ReadFileLimited(name, experiment.MaxPresetBytes)
		if err != nil {
			return Preset{}, fmt.Errorf("preset file: %w", err)
		}
		return Parse(name, b)
	}
	b, err := files.ReadFile(name + ".yaml")
	if err != nil {
		return Preset{}, fmt.Errorf("unknown preset %s (have %s; or give a path to a .yaml file or a saved config.json)", experiment.Quote(name), strings.Join(Names(), ", "))
	}
	return Parse(name+".yaml", b)
}

// ParseConfig reads a saved config.json (JSON is YAML: the same keys as a
// preset's config:, checked the same way) as a preset named after its
// folder.
func ParseConfig(source string, b []byte) (Preset, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return Preset{}, fmt.Errorf("%s: %s", source, yamlMsg(err))
	}
	if len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		return Preset{}, fmt.Errorf("%s: not a saved config (want one JSON object of config keys)", source)
	}
	if err := checkWholeNumbers(root.Content[0]); err != nil {
		return Preset{}, fmt.Errorf("%s: %v", source, err)
	}
	cfg := experiment.Default()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return Preset{}, fmt.Errorf("%s: %s", source, yamlMsg(err))
	}
	cfg.Normalize()
	if err := cfg.Validate(); err != nil {
		return Preset{}, fmt.Errorf("%s:%s %w", source, lineOf(b, err), err)
	}
	name := filepath.Base(filepath.Dir(source))
	if !nameRe.MatchString(name) || strings.Contains(name, "..") {
		name = "config"
	}
	return Preset{Name: name, Description: "the saved config " + source, Config: cfg, Source: source}, nil
}

// Parse reads a preset from YAML; source names it in errors.
func Parse(source string, b []byte) (Preset, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return Preset{}, fmt.Errorf("%s: an empty preset file (want at least config:)", source)
	}
	f := file{Config: experiment.Default()}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return Preset{}, fmt.Errorf("%s: %s", source, yamlMsg(err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		return Preset{}, fmt.Errorf("%s: a second YAML document (after ---); a preset is one", source)
	}
	var raw struct {
		Config yaml.Node `yaml:"config"`
	}
	if err := yaml.Unmarshal(b, &raw); err == nil {
		if err := checkWholeNumbers(&raw.Config); err != nil {
			return Preset{}, fmt.Errorf("%s: %v", source, err)
		}
	}
	f.Config.Normalize()
	if err := f.Config.Validate(); err != nil {
		return Preset{}, fmt.Errorf("%s:%s %w", source, lineOf(b, err), err)
	}
	if f.Name == "" {
		f.Name = strings.TrimSuffix(filepath.Base(source), filepath.Ext(source))
	}
	if !nameRe.MatchString(f.Name) || strings.Contains(f.Name, "..") {
		return Preset{}, fmt.Errorf("%s: name %q is not a name: letters, digits, '.', '_' and '-', at most 64, no '..' (it names the results folder)", source, excerpt(f.Name))
	}
	sw, err := parseSweep(source, f.Sweep, f.Config)
	if err != nil {
		return Preset{}, err
	}
	return Preset{Name: f.Name, Description: f.Description, Config: f.Config, Source: source, Sweep: sw}, nil
}

// lineOf finds the line of the config key a validation error names.
func lineOf(b []byte, err error) string {
	var fe *experiment.FieldError
	if !errors.As(err, &fe) {
		return ""
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), fe.Field+":") {
			return fmt.Sprintf("%d:", i+1)
		}
	}
	return ""
}

// Set applies "key=value" overrides (YAML names of experiment.Config fields,
// and "seed" for data_seed and init_seed together, as in a sweep axis) to cfg
// and validates the result. A rejected value is an *experiment.FieldError
// naming the key.
func Set(cfg experiment.Config, kvs []string) (experiment.Config, error) {
	cfg, err := Apply(cfg, kvs)
	if err != nil {
		return cfg, err
	}
	cfg.Normalize()
	return cfg, cfg.Validate()
}

// Apply is Set without the validation: each key=value decoded over cfg in
// turn (a flag's value, which Set then validates with the rest).
func Apply(cfg experiment.Config, kvs []string) (experiment.Config, error) {
	sets, err := compileSets(kvs)
	if err != nil {
		return cfg, err
	}
	for _, a := range sets {
		a.apply(&cfg)
	}
	return cfg, nil
}

// compileSets compiles "key=value" overrides (Apply) once.
func compileSets(kvs []string) ([]*assignment, error) {
	var out []*assignment
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("--set %s: want key=value", experiment.Quote(kv))
		}
		if err := checkSetting(k, v); err != nil {
			return nil, fmt.Errorf("--set %v", err)
		}
		a, err := compileYAML(setting(k, v))
		if err != nil {
			return nil, fmt.Errorf("--set %s: %s", excerpt(kv), strings.TrimPrefix(err.Error(), "line 1: "))
		}
		out = append(out, a)
	}
	return out, nil
}

// checkSetting refuses a key that is not a plain YAML name and a value that
// could say more than one value: a newline (more settings), a tag
// (!!float 12.9 into a whole number), no value at all.
func checkSetting(k, v string) error {
	if !keyRe.MatchString(k) {
		return fmt.Errorf("%s: a key is a config name (letters, digits, _)", experiment.Quote(k))
	}
	if strings.IndexFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) >= 0 {
		return fmt.Errorf("%s: a value is one line of text, without control characters", k)
	}
	t := strings.TrimSpace(v)
	switch {
	case t == "" || t == "~" || strings.EqualFold(t, "null"):
		return fmt.Errorf("%s=%s: no value (want %s=VALUE)", k, experiment.Excerpt(v, 24), k)
	case strings.HasPrefix(t, "!"):
		return fmt.Errorf("%s=%s: a YAML tag is not a value", k, experiment.Excerpt(t, 24))
	}
	return wholeNumber(k, v)
}

var keyRe = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// intKeys are the config keys (YAML names) that hold whole numbers.
var intKeys = func() map[string]bool {
	out := map[string]bool{"seed": true}
	t := reflect.TypeOf(experiment.Config{})
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch f.Type.Kind() {
		case reflect.Int, reflect.Int64, reflect.Uint64, reflect.Uint, reflect.Int32:
			out[name] = true
		}
	}
	return out
}()

// wholeNumber refuses a fractional value for a whole-number key (YAML
// would cut 12.9 to 12 without a word).
func wholeNumber(key, value string) error {
	if !intKeys[key] {
		return nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
	if err == nil && f != math.Trunc(f) {
		return fmt.Errorf("%s: %s is not a whole number", key, strings.TrimSpace(value))
	}
	return nil
}

// checkWholeNumbers applies wholeNumber to every key of a YAML mapping.
func checkWholeNumbers(n *yaml.Node) error {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind == yaml.ScalarNode {
			if err := wholeNumber(k.Value, v.Value); err != nil {
				return fmt.Errorf("line %d: %v", v.Line, err)
			}
		}
	}
	return nil
}

// SetKeys lists the config keys a --set or axis key sets: "seed" sets two.
func SetKeys(key string) []string {
	if key == "seed" {
		return []string{"data_seed", "init_seed"}
	}
	return []string{key}
}

// yamlMsg puts a yaml.v3 error on one line and names fields as users write them.
func yamlMsg(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	s = strings.TrimPrefix(s, "unmarshal errors:\n")
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, " in type experiment.Config", "")
	// The parser quotes what it read: at most a short excerpt of it (the
	// file may be anything, /etc/shadow included).
	s = quotedRe.ReplaceAllStringFunc(s, func(q string) string { return "`" + excerpt(q[1:len(q)-1]) + "`" })
	words := strings.Fields(s)
	for i, w := range words {
		words[i] = excerpt(w)
	}
	return experiment.Excerpt(strings.Join(words, " "), 300)
}

var (
	nameRe   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	quotedRe = regexp.MustCompile("`[^`]*`")
)

// excerpt is s cut to 24 runes.
func excerpt(s string) string { return experiment.Excerpt(s, 24) }
