// Package experiment is reluscope's domain: the teacher–student experiment
// of Berner, Grohs and Voigtlaender (ICLR 2023). A random teacher ReLU network
// with coefficients in [−c, c] is drawn, a student is trained with Adam on m
// uniform samples of it, and its L1, L2 (RMS) and L∞ errors are measured on
// fresh uniform points at checkpoints.
//
// Start runs one experiment in the background and streams Events; Run is its
// synchronous core, a trainer (trainer.go). Settings (settings.go) is the one
// table of config keys that flags, the explorer and Validate read; learners
// besides Adam come from experiment/learners' registry; a ResultsDir
// (results.go) owns a sweep's folder; the OS's side is osutil.go; the
// explorer's numbers (its line views, its checkpoint policy) are lines.go
// and explorer.go. Every random choice comes from an explicit seeded source:
// the same Config and backend give the same numbers.
package experiment

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment/learners"
	"github.com/reluscope/reluscope/internal/osutil"

	"github.com/reluscope/reluscope/experiment/uniform"
)

// Config is everything that defines one run.
type Config struct {
	// Dim is the input dimension d; inputs live in [−0.5, 0.5]^d.
	Dim int `json:"dim" yaml:"dim"`
	// Depth is the number of affine layers L of the teacher (and of the
	// student unless StudentDepth is set); L−1 hidden layers.
	Depth int `json:"depth" yaml:"depth"`
	// TeacherWidth is the width of every hidden layer of the teacher.
	TeacherWidth int `json:"teacher_width" yaml:"teacher_width"`
	// Coef is the bound c: teacher weights and biases are i.i.d. U[−c, c].
	Coef float64 `json:"coef" yaml:"coef"`
	// StudentDepth is the student's number of affine layers; 0 means Depth.
	StudentDepth int `json:"student_depth,omitempty" yaml:"student_depth"`
	// Width is the width of every hidden layer of the student.
	Width int `json:"width" yaml:"width"`
	// Samples is the number m of training samples.
	Samples int `json:"samples" yaml:"samples"`
	// Batch is the batch rule: a fraction of m rounded up, or a fixed size.
	Batch Batch `json:"batch" yaml:"batch"`
	// Epochs is the number of passes E over the training samples.
	Epochs int `json:"epochs" yaml:"epochs"`
	// LR is Adam's learning rate in the first epoch; it decays by a constant
	// factor per epoch to reach LREnd after epoch E.
	LR    float64 `json:"lr" yaml:"lr"`
	LREnd float64 `json:"lr_end" yaml:"lr_end"`
	// Standardize divides the student's inputs by σ = 1/√12, the standard
	// deviation of U[−0.5, 0.5].
	Standardize bool `json:"standardize" yaml:"standardize"`
	// DType is "float64" (the paper's) or "float32".
	DType string `json:"dtype" yaml:"dtype"`
	// EvalPoints is the number of fresh uniform points per checkpoint.
	EvalPoints int `json:"eval_points" yaml:"eval_points"`
	// EvalEvery is the number of epochs between checkpoints; 0 means E/5
	// (five checkpoints, as in the paper). Epoch 0 and E are always included.
	EvalEvery int `json:"eval_every" yaml:"eval_every"`
	// Seeds of the teacher, the training data (and evaluation points) and
	// the student's initialization.
	TeacherSeed uint64 `json:"teacher_seed" yaml:"teacher_seed"`
	DataSeed    uint64 `json:"data_seed" yaml:"data_seed"`
	InitSeed    uint64 `json:"init_seed" yaml:"init_seed"`
	// Target is "teacher" (default, also "") or "sine", the paper's Figure 1
	// function (d = 1); for sine the teacher fields are unused.
	Target string `json:"target,omitempty" yaml:"target"`
	// TeacherFile, if set, is a saved network (SaveNetwork's JSON) used as
	// the teacher instead of one drawn from TeacherSeed; its shape must be
	// the config's teacher shape.
	TeacherFile string `json:"teacher_file,omitempty" yaml:"teacher_file"`
	// InitFile, if set, is a saved network the student starts from instead
	// of one drawn from InitSeed; its shape must be the student's.
	InitFile string `json:"init_file,omitempty" yaml:"init_file"`
	// Backend names the engine: "native" or "gorgonia".
	Backend string `json:"backend" yaml:"backend"`
	// Sup says at which checkpoints the true uniform error sup|s − t| is
	// computed (exact in 1-D, a certified bracket otherwise): "final" (the
	// default, also ""), "every", or "sampled" (never: only the max over
	// the evaluation points).
	Sup string `json:"sup,omitempty" yaml:"sup"`
	// SupSeconds limits each bracket's search (0: 10 s); a bracket still
	// open then is reported as not closed.
	SupSeconds float64 `json:"sup_seconds,omitempty" yaml:"sup_seconds"`
	// SupBoxes is a bracket's budget of boxes (0: none): with it a
	// bracket is a function of the networks and the budget alone, the
	// same on any machine and load (SupSeconds stays as a safety net).
	SupBoxes int `json:"sup_boxes,omitempty" yaml:"sup_boxes"`
	// Learner fits the student: "adam" (the default, also ""), or one of
	// the exact or enumerative algorithms of experiment/learners for a
	// one-hidden-layer student: "exact-erm", "discrete", "enumerate".
	Learner string `json:"learner,omitempty" yaml:"learner"`
	// NoOutputBias drops the output bias of the learners' networks.
	NoOutputBias bool `json:"no_output_bias,omitempty" yaml:"no_output_bias"`
	// DiscreteSet is the finite set S every parameter of the discrete
	// learner comes from, comma-separated (default "-1,0,1").
	DiscreteSet string `json:"discrete_set,omitempty" yaml:"discrete_set"`
	// NetEps is the enumerate learner's ε: the spacing of its net of unit
	// weight vectors (default 0.1).
	NetEps float64 `json:"net_eps,omitempty" yaml:"net_eps"`
	// DataFile, if set, is a CSV of training samples (x1…xd, y per line, an
	// optional header) used instead of the teacher's.
	DataFile string `json:"data_file,omitempty" yaml:"data_file"`
}

// Sup efforts.
const (
	SupFinal   = "final"
	SupEvery   = "every"
	SupSampled = "sampled"
)

// SupAt says whether the true uniform error is computed at epoch's checkpoint.
func (c Config) SupAt(epoch int) bool {
	switch c.Sup {
	case SupSampled:
		return false
	case SupEvery:
		return true
	}
	return epoch == c.Epochs
}

// SupOptions are the options of a checkpoint's bracket.
func (c Config) SupOptions(starts []float64, threads int) uniform.Options {
	return uniform.Options{Time: c.SupTime(), Starts: starts, Seed: c.DataSeed, Threads: threads, MaxBoxes: c.SupBoxes}
}

// SupTime is the time limit of one bracket.
func (c Config) SupTime() time.Duration {
	if c.SupSeconds <= 0 {
		return 10 * time.Second
	}
	return time.Duration(c.SupSeconds * float64(time.Second))
}

// Default is the explorer's default: the paper's d = 1 teacher (depth 5,
// width 32, c = 0.5) and student, m = 1000, batch 20 %, 200 epochs.
func Default() Config {
	return Config{
		Dim:          1,
		Depth:        5,
		TeacherWidth: 32,
		Coef:         0.5,
		Width:        32,
		Samples:      1000,
		Batch:        Batch{Frac: 0.2},
		Epochs:       200,
		LR:           1e-4,
		LREnd:        1e-6,
		Standardize:  true,
		DType:        "float64",
		EvalPoints:   1 << 18,
		TeacherSeed:  1,
		DataSeed:     10000,
		InitSeed:     10000,
		Backend:      "native",
	}
}

// Limits of the accepted values.
const (
	MaxDim        = 64
	MaxDepth      = 32
	MaxWidth      = 4096
	MaxSamples    = 10_000_000
	MaxEpochs     = 1_000_000
	MaxEvalPoints = 1 << 30
)

// Sigma is the standard deviation of U[−0.5, 0.5], 1/√12.
var Sigma = 1 / math.Sqrt(12)

// FieldError is a rejected Config value.
type FieldError struct {
	Field string // the Config field's name as in JSON/YAML and flags
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func bad(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// CheckLearnerSize refuses a learner's instance that would take too long,
// with the estimate of its work (the samples must be final: after a data
// file was read).
func (c Config) CheckLearnerSize() error {
	if !c.UsesLearner() {
		return nil
	}
	l, err := learners.Get(c.Learner)
	if err != nil {
		return bad("learner", "%v", err)
	}
	if err := l.Check(c.learnerProblem()); err != nil {
		return bad("learner", "%v", err)
	}
	return nil
}

// UsesLearner says a learner other than Adam fits the student.
func (c Config) UsesLearner() bool { return c.Learner != "" && c.Learner != LearnerAdam }

// LearnerNames are the values learner takes: adam and the registered
// learners.
func LearnerNames() []string { return append([]string{LearnerAdam}, learners.Names()...) }

// LearnerAdam is the default learner, the training loop of run.go; the
// others are experiment/learners' registry.
const LearnerAdam = "adam"

// Normalize writes values that have several spellings in one, so that a
// config hashes the same however it was typed (f64 → float64).
func (c *Config) Normalize() {
	if dt, err := backend.ParseDType(c.DType); err == nil {
		c.DType = dt.String()
	}
}

// Validate returns a *FieldError for the first value out of range.
func (c Config) Validate() error {
	cp := &c
	for i := range Settings {
		s := &Settings[i] // not a copy of each setting per run of a grid
		if s.Ranged() {
			if err := s.check(cp); err != nil {
				return err
			}
		}
		if s.Key == "lr" && !(c.LREnd > 0 && c.LREnd <= c.LR) {
			return bad("lr_end", "%v is out of range (0, lr=%v]", c.LREnd, c.LR)
		}
	}
	if c.Target != "" && c.Target != TargetTeacher && c.Target != TargetSine {
		return bad("target", "%s is not teacher or sine", Quote(c.Target))
	}
	if c.Target == TargetSine && c.Dim != 1 {
		return bad("target", "sine needs dim 1, not %d", c.Dim)
	}
	if c.Target == TargetSine && c.TeacherFile != "" {
		return bad("teacher_file", "the sine target has no teacher network to load")
	}
	if c.UsesLearner() {
		l, err := learners.Get(c.Learner)
		if err != nil {
			return bad("learner", "%s is not %s", Quote(c.Learner), orList(LearnerNames()))
		}
		if n := len(c.StudentSizes()); n != 3 {
			return bad("learner", "%s fits one hidden layer: student_depth must be 2 (or unset), not %d", c.Learner, n-1)
		}
		if d := l.MaxDim(); d > 0 && c.Dim > d {
			return bad("learner", "%s is built for d = 1 and 2, not %d", c.Learner, c.Dim)
		}
	}
	if !(c.NetEps >= 0 && c.NetEps <= 1) {
		return bad("net_eps", "%v is out of range (0, 1]", c.NetEps)
	}
	if c.Sup != "" && c.Sup != SupFinal && c.Sup != SupEvery && c.Sup != SupSampled {
		return bad("sup", "%s is not final, every or sampled", Quote(c.Sup))
	}
	if !(c.SupSeconds >= 0 && c.SupSeconds <= 86400) {
		return bad("sup_seconds", "%v is out of range [0, 86400]", c.SupSeconds)
	}
	if err := c.Batch.validate(c.Samples); err != nil {
		return err
	}
	if _, err := backend.ParseDType(c.DType); err != nil {
		return bad("dtype", "%s is not float64 or float32", Quote(c.DType))
	}
	if _, err := backend.Get(c.Backend); err != nil {
		if hint := backend.NotBuilt(c.Backend); hint != "" {
			return bad("backend", "%s", hint)
		}
		return bad("backend", "%s is not one of %s", Quote(c.Backend), strings.Join(backend.Names(), ", "))
	}
	return nil
}

// TeacherSizes are the teacher's layer widths [d, N, …, N, 1].
func (c Config) TeacherSizes() []int { return sizes(c.Dim, c.TeacherWidth, c.Depth) }

// TotalEpochs is the epochs a run of c takes: its Epochs for Adam, 1 for
// the learners that fit in one go.
func (c Config) TotalEpochs() int {
	if c.UsesLearner() {
		return 1
	}
	return c.Epochs
}

// StudentSizes are the student's layer widths. The learners other than
// Adam fit one hidden layer: their student depth is 2 unless set.
func (c Config) StudentSizes() []int {
	L := c.StudentDepth
	if L == 0 {
		L = c.Depth
		if c.UsesLearner() {
			L = 2
		}
	}
	return sizes(c.Dim, c.Width, L)
}

func sizes(d, w, L int) []int {
	s := []int{d}
	for i := 1; i < L; i++ {
		s = append(s, w)
	}
	return append(s, 1)
}

// BatchSize is the number of samples per Adam step.
func (c Config) BatchSize() int { return c.Batch.For(c.Samples) }

// StepsPerEpoch is ⌈m / batch⌉ (the last batch may be short).
func (c Config) StepsPerEpoch() int {
	b := c.BatchSize()
	return (c.Samples + b - 1) / b
}

// Gamma is the per-epoch learning-rate factor (LREnd/LR)^(1/E).
func (c Config) Gamma() float64 { return math.Pow(c.LREnd/c.LR, 1/float64(c.Epochs)) }

// LRAt is the learning rate after e epochs: LR·γ^e (LREnd at e = E).
func (c Config) LRAt(e int) float64 { return c.LR * math.Pow(c.Gamma(), float64(e)) }

// Interval is the number of epochs between checkpoints.
func (c Config) Interval() int {
	if c.EvalEvery > 0 {
		return c.EvalEvery
	}
	return max(1, (c.Epochs+4)/5)
}

// IsCheckpoint reports whether the metrics are evaluated after epoch e.
func (c Config) IsCheckpoint(e int) bool { return e == 0 || e == c.Epochs || e%c.Interval() == 0 }

// Batch is a batch rule: Frac > 0 means ⌈Frac·m⌉, otherwise Size.
type Batch struct {
	Frac float64
	Size int
}

// For is the batch size for m samples, never more than m.
func (b Batch) For(m int) int {
	if b.Frac > 0 {
		return max(1, min(m, int(math.Ceil(b.Frac*float64(m)-1e-9))))
	}
	return min(m, b.Size)
}

func (b Batch) validate(m int) error {
	if b.Frac != 0 {
		if !(b.Frac > 0 && b.Frac <= 1) || b.Size != 0 {
			return bad("batch", "fraction %v%% is out of range (0%%, 100%%]", b.Frac*100)
		}
		return nil
	}
	if b.Size < 1 || b.Size > MaxSamples {
		return bad("batch", "size %d is out of range [1, %d] (a size above m means full batches)", b.Size, MaxSamples)
	}
	return nil
}

// String writes "20%" for a fraction, "100" for a fixed size.
func (b Batch) String() string {
	if b.Frac > 0 {
		return strconv.FormatFloat(b.Frac*100, 'g', -1, 64) + "%"
	}
	return strconv.Itoa(b.Size)
}

// ParseBatch reads "20%", "0.2" (a fraction below 1) or "100".
func ParseBatch(s string) (Batch, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || !(v > 0 && v <= 100) {
			return Batch{}, fmt.Errorf("batch %s: a percentage must be in (0, 100]", Quote(s))
		}
		return Batch{Frac: v / 100}, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 {
			return Batch{}, fmt.Errorf("batch %s: a size must be ≥ 1", Quote(s))
		}
		return Batch{Size: n}, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v > 0 && v < 1) {
		return Batch{}, fmt.Errorf("batch %s: want a size (100), a percentage (20%%) or a fraction (0.2)", Quote(s))
	}
	return Batch{Frac: v}, nil
}

func (b Batch) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

func (b *Batch) UnmarshalText(p []byte) error {
	v, err := ParseBatch(string(p))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// UnmarshalJSON accepts a string ("20%") or a number (100 or 0.2).
func (b *Batch) UnmarshalJSON(p []byte) error {
	var s string
	if err := json.Unmarshal(p, &s); err == nil {
		return b.UnmarshalText([]byte(s))
	}
	return b.UnmarshalText(p)
}

// orList is "a, b or c".
func orList(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

// ConfigHash identifies a run by its complete configuration: the first 16
// hex digits of the SHA-256 of its JSON and, for the files it names (a
// teacher, an initial student, a data file), of their contents, so that a
// file changed under the same path is another run.
func ConfigHash(c Config) string {
	b, _ := json.Marshal(c)
	for _, p := range []string{c.TeacherFile, c.InitFile, c.DataFile} {
		if p != "" {
			b = append(b, fileDigest(p)...)
		}
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// fileDigest is the SHA-256 of a file's contents, cached by path, size and
// modification time ("missing" when it cannot be read).
func fileDigest(path string) string {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return "missing"
	}
	key := fmt.Sprintf("%s\x00%d\x00%d", path, st.Size(), st.ModTime().UnixNano())
	if d, ok := digests.Load(key); ok {
		return d.(string)
	}
	f, err := osutil.OpenLimited(path, MaxNetworkBytes)
	if err != nil {
		return "missing"
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "missing"
	}
	d := hex.EncodeToString(h.Sum(nil))
	digests.Store(key, d)
	return d
}

var digests sync.Map
