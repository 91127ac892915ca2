package experiment

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/reluscope/reluscope/experiment/uniform"
)

// Setting is one config key as every surface sees it: the YAML key that a
// preset and --set take, the flag that is its alias (--dim v ≡ --set
// dim=v), the explorer's label, the usage, and the range Validate checks
// and the explorer steps within. Settings lists them once; flags, the
// explorer's panel and validation read it.
type Setting struct {
	Key   string      // YAML key
	Flag  string      // the flag, without dashes ("" none)
	Label string      // the explorer's label ("" not in the panel)
	Usage string      // the flag's usage
	Kind  SettingKind // how the flag parses its value
	// The range of a number: [Lo, Hi], or (Lo, Hi] when LoOpen; Zero
	// allows 0 besides (student_depth: the teacher's depth); Note follows
	// the message of a value out of range.
	Lo, Hi float64
	LoOpen bool
	Zero   bool
	Note   string
	// Negate: a bool flag that sets the key to the opposite
	// (--no-standardize is standardize=false). NoDefault: the flag's
	// default is not the config's (--seed sets two keys).
	Negate, NoDefault bool
	// Check: Validate checks the number is in its range. ExplorerHi (> 0)
	// caps the explorer's steps below Hi.
	Check      bool
	ExplorerHi float64
	// field is the index of the key's field in Config (nil: the key sets
	// others, as seed does): Ptr, Num and Config.Value reach the value
	// through it, the one way every surface does.
	field []int
}

// The fields of the settings, found once by their YAML tags.
func init() {
	t := reflect.TypeFor[Config]()
	for i := range Settings {
		for j := 0; j < t.NumField(); j++ {
			if name, _, _ := strings.Cut(t.Field(j).Tag.Get("yaml"), ","); name == Settings[i].Key {
				Settings[i].field = t.Field(j).Index
			}
		}
	}
}

// Ptr is a pointer to the setting's field in c (*int, *float64, *string,
// *bool, *uint64, *Batch, …), nil for a key without a field of its own.
func (s Setting) Ptr(c *Config) any {
	if s.field == nil {
		return nil
	}
	return reflect.ValueOf(c).Elem().FieldByIndex(s.field).Addr().Interface()
}

// Num is the setting's value in c as a number (NaN for a setting that is
// not one).
func (s Setting) Num(c Config) float64 { return s.num(&c) }

// num is Num on a config held by pointer: Validate's checks of a grid's
// every run (10⁷ of them) would otherwise copy the config to the heap once
// per setting.
func (s *Setting) num(c *Config) float64 {
	switch v := s.Ptr(c).(type) {
	case *int:
		return float64(*v)
	case *float64:
		return *v
	case *uint64:
		return float64(*v)
	}
	return math.NaN()
}

// SettingKind says how a setting's flag parses its value.
type SettingKind int

const (
	KindInt SettingKind = iota
	KindFloat
	KindString
	KindBool
	KindSeed
	KindBatch
)

// Settings are the config keys that flags, the explorer and validation
// share, in the order flags are applied (a later one wins where two set
// the same key: --data-seed after --seed).
var Settings = []Setting{
	{Key: "dim", Flag: "dim", Label: "dim", Kind: KindInt, Lo: 1, Hi: MaxDim, Usage: fmt.Sprintf("input dimension d [1, %d]", MaxDim),
		Check: true},
	{Key: "depth", Flag: "depth", Label: "depth", Kind: KindInt, Lo: 2, Hi: MaxDepth, Note: " (affine layers, at least one hidden layer)",
		Usage: fmt.Sprintf("affine layers L of teacher and student [2, %d]", MaxDepth), Check: true},
	{Key: "teacher_width", Flag: "teacher-width", Label: "teacher width", Kind: KindInt, Lo: 1, Hi: MaxWidth, Usage: "teacher hidden width",
		Check: true},
	{Key: "coef", Flag: "coef", Label: "c", Kind: KindFloat, Lo: 0, LoOpen: true, Hi: 10, Usage: "teacher coefficient bound c: weights and biases ~ U[-c, c]",
		Check: true},
	{Key: "student_depth", Flag: "student-depth", Label: "student depth", Kind: KindInt, Lo: 2, Hi: MaxDepth, Zero: true, Note: " (or 0 for the teacher's depth)",
		Usage: "student affine layers (0: same as --depth)", Check: true},
	{Key: "width", Flag: "width", Label: "width", Kind: KindInt, Lo: 1, Hi: MaxWidth, Usage: fmt.Sprintf("student hidden width [1, %d]", MaxWidth),
		Check: true},
	{Key: "samples", Flag: "samples", Label: "samples", Kind: KindInt, Lo: 1, Hi: MaxSamples, Usage: "training samples m",
		Check: true},
	{Key: "batch", Flag: "batch", Label: "batch", Kind: KindBatch, Usage: "batch: a size (100), a percentage of m (20%) or a fraction (0.2)"},
	{Key: "epochs", Flag: "epochs", Label: "epochs", Kind: KindInt, Lo: 1, Hi: MaxEpochs, Usage: "epochs E",
		Check: true},
	{Key: "lr", Flag: "lr", Label: "lr", Kind: KindFloat, Lo: 0, LoOpen: true, Hi: 1, Usage: "Adam learning rate in the first epoch",
		Check: true},
	// lr_end's upper end is lr: Validate checks it.
	{Key: "lr_end", Flag: "lr-end", Kind: KindFloat, Usage: "learning rate reached after the last epoch (exponential decay per epoch)"},
	{Key: "standardize", Flag: "no-standardize", Kind: KindBool, Negate: true, Usage: "feed raw inputs to the student instead of x/σ"},
	{Key: "dtype", Flag: "dtype", Label: "dtype", Kind: KindString, Usage: "float64 or float32"},
	{Key: "eval_points", Flag: "eval-points", Label: "eval points", Kind: KindInt, Lo: 1, Hi: MaxEvalPoints, Usage: "fresh uniform evaluation points per checkpoint",
		Check: true, ExplorerHi: 1 << 24 /* the paper's 2^24 */},
	{Key: "eval_every", Flag: "eval-every", Label: "eval every", Kind: KindInt, Lo: 0, Hi: MaxEpochs, Note: " (above epochs: only the first and last)",
		Usage: "epochs between checkpoints (0: five checkpoints)", Check: true},
	{Key: "seed", Flag: "seed", Kind: KindSeed, NoDefault: true, Usage: "seed of the training data and the student's initialization"},
	{Key: "teacher_seed", Flag: "teacher-seed", Label: "teacher seed", Kind: KindSeed, Usage: "seed of the teacher"},
	{Key: "data_seed", Flag: "data-seed", Label: "data seed", Kind: KindSeed, Usage: "seed of the training data and evaluation points"},
	{Key: "init_seed", Flag: "init-seed", Label: "student seed", Kind: KindSeed, Usage: "seed of the student's initialization"},
	{Key: "teacher_file", Flag: "teacher", Kind: KindString, Usage: "a saved network (teacher.json or student.json of a saved run) as the teacher; its shape must match --dim, --depth, --teacher-width"},
	{Key: "init_file", Flag: "init", Kind: KindString, Usage: "start the student from a saved network; its shape must match --dim, --depth/--student-depth, --width"},
	{Key: "learner", Flag: "learner", Label: "learner", Kind: KindString}, // usage from the learners' registry
	{Key: "no_output_bias", Flag: "no-output-bias", Kind: KindBool, Usage: "the learners' networks have no output bias"},
	{Key: "discrete_set", Flag: "discrete-set", Kind: KindString, Usage: "the discrete learner's parameter values, comma-separated (default -1,0,1)"},
	{Key: "net_eps", Flag: "net-eps", Kind: KindFloat, Usage: "the enumerate learner's ε (default 0.1)"},
	{Key: "data_file", Flag: "data", Kind: KindString, Usage: "train on the samples of this CSV (x1…xd, y a line, optional header) instead of the teacher's; samples is set from it"},
	{Key: "backend", Flag: "backend", Label: "backend", Kind: KindString}, // usage names the engines built in
	{Key: "sup", Flag: "sup", Kind: KindString,
		Usage: "true uniform error sup|student − teacher| (exact in 1-D, a certified bracket otherwise) at the final checkpoint (final), at every one (every), or only the sampled max (sampled)"},
	{Key: "sup_seconds", Flag: "sup-seconds", Kind: KindFloat, Usage: "time limit of each bracket's search in seconds (0: 10)"},
	{Key: "sup_boxes", Flag: "sup-boxes", Kind: KindInt, Lo: 0, Hi: uniform.MaxBoxes,
		Usage: "each bracket's budget of boxes (0: none): the bracket is then the same on any machine and load, the time limit a safety net",
		Check: true},
}

// SettingOf is the setting of YAML key k (the zero Setting and false when
// there is none).
func SettingOf(k string) (Setting, bool) {
	for _, s := range Settings {
		if s.Key == k {
			return s, true
		}
	}
	return Setting{}, false
}

// MustSetting is SettingOf for a key the caller knows is there.
func MustSetting(k string) Setting {
	s, ok := SettingOf(k)
	if !ok {
		panic("experiment: no setting " + k)
	}
	return s
}

// Ranged says the setting has a range to check.
func (s Setting) Ranged() bool { return s.Check }

// Range is the range as messages write it: [1, 64] or (0, 10].
func (s Setting) Range() string {
	open := "["
	if s.LoOpen {
		open = "("
	}
	return open + s.format(s.Lo) + ", " + s.format(s.Hi) + "]"
}

// format writes a value of the setting as %d or %v would.
func (s Setting) format(v float64) string {
	if s.Kind == KindInt && !math.IsNaN(v) && !math.IsInf(v, 0) {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// In says v is in the setting's range.
func (s Setting) In(v float64) bool {
	if s.Zero && v == 0 {
		return true
	}
	lo := v >= s.Lo
	if s.LoOpen {
		lo = v > s.Lo
	}
	return lo && v <= s.Hi // false for NaN
}

// check is a *FieldError when c's value is out of the setting's range.
func (s *Setting) check(c *Config) error {
	v := s.num(c)
	if s.In(v) {
		return nil
	}
	return bad(s.Key, "%s is out of range %s%s", s.format(v), s.Range(), s.Note)
}

// Value is c's value of YAML key k as a flag's default shows it ("" for
// a key c does not have).
func (c Config) Value(k string) string {
	st, ok := SettingOf(k)
	if !ok || st.field == nil {
		return ""
	}
	switch v := st.Ptr(&c).(type) {
	case *float64:
		return strconv.FormatFloat(*v, 'g', -1, 64)
	case fmt.Stringer:
		return v.String()
	default:
		return fmt.Sprint(reflect.ValueOf(v).Elem().Interface())
	}
}
