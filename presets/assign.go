package presets

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/reluscope/reluscope/experiment"
)

// An assignment is settings of the YAML form "key: value" lines compiled
// once: the config fields they name and the values YAML decodes them to.
// Applied, it copies those fields — the same config a decode of the lines
// over it gives (every config field is a plain scalar), in a fraction of
// the time, which a grid of millions of runs built one by one needs.
type assignment struct {
	fields []int
	from   experiment.Config
}

// configField maps a config field's YAML name to its index.
var configField = func() map[string]int {
	out := map[string]int{}
	t := reflect.TypeOf(experiment.Config{})
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			out[name] = i
		}
	}
	return out
}()

// compileYAML compiles src, lines "key: value" as setting writes them.
func compileYAML(src string) (*assignment, error) {
	a := &assignment{}
	if err := decodeInto(&a.from, src); err != nil {
		return nil, err
	}
	for _, line := range strings.Split(strings.TrimSuffix(src, "\n"), "\n") {
		key, _, ok := strings.Cut(line, ":")
		f, known := configField[strings.TrimSpace(key)]
		if !ok || !known {
			return nil, fmt.Errorf("cannot compile setting %s", experiment.Quote(line))
		}
		a.fields = append(a.fields, f)
	}
	return a, nil
}

// apply sets a's fields of cfg.
func (a *assignment) apply(cfg *experiment.Config) {
	dst, src := reflect.ValueOf(cfg).Elem(), reflect.ValueOf(&a.from).Elem()
	for _, f := range a.fields {
		dst.Field(f).Set(src.Field(f))
	}
}

// compileAxis compiles each value of a (an error there is the value's own:
// its YAML does not decode).
func compileAxis(a *Axis) error {
	for i := range a.Values {
		set, err := compileYAML(a.Values[i].YAML)
		if err != nil {
			return fmt.Errorf("%s: %v", a.Values[i].Label, err)
		}
		a.Values[i].set = set
	}
	return nil
}
