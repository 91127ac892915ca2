// Package backend holds the numeric engines that train and evaluate fully
// connected ReLU networks for reluscope.
//
// A network is a stack of L affine layers x ↦ W x + b with ReLU between them
// and none after the last one; [Net] holds its parameters in float64 whatever
// the engine computes in. An [Engine] turns a Net into a [Model]: a mutable
// copy that takes Adam steps on mean-squared-error batches and predicts.
//
// Batches are row-major: x holds n rows of Sizes[0] inputs, y holds n targets.
// Models are not safe for concurrent use. Misuse (a batch of the wrong shape)
// panics with a "backend:" prefix; runtime failures are errors.
package backend

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
)

// DType is the floating-point type an engine computes in.
type DType int

const (
	Float64 DType = iota
	Float32
)

func (t DType) String() string {
	if t == Float32 {
		return "float32"
	}
	return "float64"
}

// ParseDType parses "float64" or "float32".
func ParseDType(s string) (DType, error) {
	switch s {
	case "float64", "f64", "":
		return Float64, nil
	case "float32", "f32":
		return Float32, nil
	}
	return Float64, fmt.Errorf("unknown dtype %q (want float64 or float32)", s)
}

// Adam holds Adam's hyper-parameters; the zero value means PyTorch's defaults.
type Adam struct {
	Beta1, Beta2, Eps float64
}

// WithDefaults fills the zero hyper-parameters with PyTorch's defaults.
func (a Adam) WithDefaults() Adam {
	if a.Beta1 == 0 {
		a.Beta1 = 0.9
	}
	if a.Beta2 == 0 {
		a.Beta2 = 0.999
	}
	if a.Eps == 0 {
		a.Eps = 1e-8
	}
	return a
}

// Options configure a Model.
type Options struct {
	DType DType
	Adam  Adam
	// MaxBatch is the largest batch the model will see; buffers are sized
	// for it up front. Zero means 1024; larger batches grow the buffers.
	MaxBatch int
	// Threads is the number of goroutines a model may compute on; zero
	// means GOMAXPROCS.
	Threads int
}

// Model is one network being trained or evaluated by an engine.
type Model interface {
	// Step takes one Adam step with learning rate lr on the batch (x, y)
	// and returns the batch's mean squared error before the step.
	Step(x, y []float64, lr float64) (loss float64, err error)
	// Gradient writes the gradient of the batch's mean squared error with
	// respect to every parameter into dst (shaped like the model's Net)
	// and returns the loss. It does not change the parameters.
	Gradient(dst *Net, x, y []float64) (loss float64, err error)
	// Predict writes the network's output for each row of x into dst.
	Predict(dst, x []float64) error
	// Net returns a copy of the current parameters.
	Net() *Net
	// Close releases the model's resources.
	Close() error
}

// Engine creates models.
type Engine interface {
	Name() string
	// Available reports why the engine cannot run here, or nil.
	Available() error
	New(net *Net, opt Options) (Model, error)
}

var (
	regMu    sync.RWMutex
	registry = map[string]Engine{}
)

// Register makes an engine selectable by name. It panics on a duplicate.
func Register(e Engine) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[e.Name()]; dup {
		panic("backend: duplicate engine " + e.Name())
	}
	registry[e.Name()] = e
}

// Get returns the engine with the given name.
func Get(name string) (Engine, error) {
	regMu.RLock()
	defer regMu.RUnlock()
	e, ok := registry[name]
	if !ok {
		if hint := notBuiltHint(name); hint != "" {
			return nil, errors.New(hint)
		}
		return nil, fmt.Errorf("unknown backend %q (have %s)", name, strings.Join(namesLocked(), ", "))
	}
	return e, nil
}

// NotBuilt says how to get an engine that only a binary built with a tag
// has, when this binary lacks it ("" when it has it or there is no such
// engine).
func NotBuilt(name string) string {
	regMu.RLock()
	_, ok := registry[name]
	regMu.RUnlock()
	if ok {
		return ""
	}
	return notBuiltHint(name)
}

func notBuiltHint(name string) string {
	if name != "cuda" {
		return ""
	}
	return "backend cuda is not in this binary: build with go build -tags gpu (README: GPU)"
}

// Describe names the engine and, for one that computes on a device, the
// device: "cuda (NVIDIA H200, 139.8 GiB)".
func Describe(e Engine) string {
	if d, ok := e.(Describer); ok {
		return e.Name() + " (" + d.Describe() + ")"
	}
	return e.Name()
}

// Names lists the registered engines in sorted order.
func Names() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	return namesLocked()
}

func namesLocked() []string {
	var out []string
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Net is the parameters of a ReLU network with len(Sizes)-1 affine layers.
type Net struct {
	// Sizes are the layer widths, input first, output (1) last.
	Sizes []int `json:"sizes"`
	// InputScale multiplies every input before the first layer (1/σ for
	// standardized inputs, 1 for none).
	InputScale float64 `json:"input_scale"`
	// W[l] is layer l's weight matrix, row-major Sizes[l+1]×Sizes[l].
	W [][]float64 `json:"weights"`
	// B[l] is layer l's bias vector of length Sizes[l+1].
	B [][]float64 `json:"biases"`
}

// NewNet allocates a zero network with the given sizes and input scale 1.
func NewNet(sizes []int) *Net {
	n := &Net{Sizes: append([]int(nil), sizes...), InputScale: 1}
	for l := 0; l+1 < len(sizes); l++ {
		n.W = append(n.W, make([]float64, sizes[l]*sizes[l+1]))
		n.B = append(n.B, make([]float64, sizes[l+1]))
	}
	return n
}

// Layers is the number of affine layers.
func (n *Net) Layers() int { return len(n.Sizes) - 1 }

// NumParams counts weights and biases.
func (n *Net) NumParams() int { return NumParams(n.Sizes) }

// NumParams counts the weights and biases of a network with these sizes.
func NumParams(sizes []int) int {
	p := 0
	for l := 0; l+1 < len(sizes); l++ {
		p += sizes[l]*sizes[l+1] + sizes[l+1]
	}
	return p
}

// Clone returns a deep copy.
func (n *Net) Clone() *Net {
	c := &Net{Sizes: append([]int(nil), n.Sizes...), InputScale: n.InputScale}
	for l := range n.W {
		c.W = append(c.W, append([]float64(nil), n.W[l]...))
		c.B = append(c.B, append([]float64(nil), n.B[l]...))
	}
	return c
}

// MaxLayerSize bounds every layer of a network a file may describe, so that
// products of two sizes cannot overflow.
const MaxLayerSize = 1 << 24

// Validate checks that the parameter arrays match Sizes and are finite.
func (n *Net) Validate() error {
	if len(n.Sizes) < 2 {
		return fmt.Errorf("network needs at least 2 sizes, has %d", len(n.Sizes))
	}
	for i, s := range n.Sizes {
		if s < 1 || s > MaxLayerSize {
			return fmt.Errorf("layer size %d is %d, must be in [1, %d]", i, s, MaxLayerSize)
		}
	}
	if n.Sizes[len(n.Sizes)-1] != 1 {
		return fmt.Errorf("output size is %d, must be 1", n.Sizes[len(n.Sizes)-1])
	}
	if !(n.InputScale > 0) || math.IsInf(n.InputScale, 0) {
		return fmt.Errorf("input_scale is %v, must be positive and finite", n.InputScale)
	}
	L := len(n.Sizes) - 1
	if len(n.W) != L || len(n.B) != L {
		return fmt.Errorf("network has %d layers but %d weight and %d bias arrays", L, len(n.W), len(n.B))
	}
	for l := 0; l < L; l++ {
		if len(n.W[l]) != n.Sizes[l]*n.Sizes[l+1] {
			return fmt.Errorf("layer %d weights: %d values, want %d×%d", l, len(n.W[l]), n.Sizes[l+1], n.Sizes[l])
		}
		if len(n.B[l]) != n.Sizes[l+1] {
			return fmt.Errorf("layer %d biases: %d values, want %d", l, len(n.B[l]), n.Sizes[l+1])
		}
		for _, v := range n.W[l] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("layer %d has a non-finite weight", l)
			}
		}
		for _, v := range n.B[l] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("layer %d has a non-finite bias", l)
			}
		}
	}
	return nil
}

// Eval computes the network's output at one point with plain float64 loops.
// It is the reference the engines are checked against and is used for small
// plots; it allocates.
func (n *Net) Eval(x []float64) float64 {
	if len(x) != n.Sizes[0] {
		panic(fmt.Sprintf("backend: Eval input has %d values, want %d", len(x), n.Sizes[0]))
	}
	h := make([]float64, len(x))
	for i, v := range x {
		h[i] = v * n.InputScale
	}
	for l := 0; l < n.Layers(); l++ {
		in, out := n.Sizes[l], n.Sizes[l+1]
		z := make([]float64, out)
		for o := 0; o < out; o++ {
			s := n.B[l][o]
			row := n.W[l][o*in : (o+1)*in]
			for i, w := range row {
				s += w * h[i]
			}
			if l+1 < n.Layers() && s < 0 {
				s = 0
			}
			z[o] = s
		}
		h = z
	}
	return h[0]
}

// FillUniform draws every parameter of layer l i.i.d. from U[−bound(l),
// bound(l)] with r, layer by layer, weights before biases.
func (n *Net) FillUniform(r *rand.Rand, bound func(layer int) float64) {
	for l := range n.W {
		b := bound(l)
		for i := range n.W[l] {
			n.W[l][i] = b * (2*r.Float64() - 1)
		}
		for i := range n.B[l] {
			n.B[l][i] = b * (2*r.Float64() - 1)
		}
	}
}

// Flatten appends every parameter, layer by layer (weights then biases), to dst.
func (n *Net) Flatten(dst []float64) []float64 {
	for l := range n.W {
		dst = append(dst, n.W[l]...)
		dst = append(dst, n.B[l]...)
	}
	return dst
}

// CheckBatch returns the number of rows of a batch (x, and y unless nil)
// for a network with these sizes, panicking with a "backend:" message when
// the shapes do not fit (a caller's mistake, see the package comment).
func CheckBatch(sizes []int, x, y []float64) int {
	d := sizes[0]
	if len(x)%d != 0 || len(x) == 0 {
		panic(fmt.Sprintf("backend: batch x has %d values, not a positive multiple of d=%d", len(x), d))
	}
	n := len(x) / d
	if y != nil && len(y) != n {
		panic(fmt.Sprintf("backend: batch has %d rows but %d targets", n, len(y)))
	}
	return n
}

// ErrDiverged is returned by Step when the loss is NaN or infinite.
var ErrDiverged = errors.New("training diverged: the loss is not finite")

// ErrInterrupted is returned by the Step of an Interruptible model whose
// stop function said stop: the step changed nothing and may be taken again.
var ErrInterrupted = errors.New("backend: step interrupted")

// Interruptible is a Model whose Step can be abandoned part-way (between
// layers): a paused run then stops within a layer's time, not a step's.
// AdamState is an optimizer's state: the steps taken and the first and
// second moments of every parameter, flat, in the engine's own order (a
// state goes back into a model of the engine, dtype and sizes it came
// from). float32 moments are held exactly in float64.
type AdamState struct {
	Steps int
	M, V  []float64
}

// Resumable is a model whose Adam state can be read and restored, so that
// a run can stop and go on with exactly the bits of one that did not.
type Resumable interface {
	AdamState() (AdamState, error)
	// SetAdamState restores a state read from a model of the same engine,
	// dtype and sizes; the parameters come from the Net the model was
	// made from.
	SetAdamState(AdamState) error
}

type Interruptible interface {
	SetInterrupt(stop func() bool)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// PredictChunks fills dst[i] with the prediction at row i of x (n rows of
// d columns, n = len(dst)), chunk rows at a time through predict, so that a
// model built for batches of at most chunk rows can predict any number.
func PredictChunks(predict func(dst, x []float64) error, dst, x []float64, d, chunk int) error {
	n := len(dst)
	for lo := 0; lo < n; lo += chunk {
		hi := min(n, lo+chunk)
		if err := predict(dst[lo:hi], x[lo*d:hi*d]); err != nil {
			return err
		}
	}
	return nil
}

// DataHolder is a Model that keeps the training set on its own device: the
// set goes up once, each epoch's order once, a step names its rows in that
// order, and the loss stays there until TakeLoss. Engines without a device
// of their own do not implement it; the training loop then gathers batches
// and calls Step.
type DataHolder interface {
	// SetData hands the model the training set: m rows of x, m targets.
	SetData(x, y []float64) error
	// SetOrder sets the order (a permutation of the m rows) StepRows uses.
	SetOrder(perm []int) error
	// StepRows takes one Adam step with learning rate lr on the rows
	// order[lo:hi]. It may return before the device has finished; a
	// diverged loss shows in TakeLoss.
	StepRows(lo, hi int, lr float64) error
	// TakeLoss returns Σ (output − target)² over the rows stepped on since
	// the last call, and starts the next sum; with ErrDiverged when the
	// sum is not finite.
	TakeLoss() (float64, error)
}

// MultiStepper is a DataHolder that takes several steps in one request to
// its device (for a GPU: no launch or host round trip between them).
type MultiStepper interface {
	// StepsRows takes len(lrs) Adam steps of n rows each, step s on the
	// rows order[lo+s·n : lo+(s+1)·n] with rate lrs[s]: the same steps as
	// as many StepRows, bit for bit.
	StepsRows(lo, n int, lrs []float64) error
}

// ErrorStats summarize the error e = model − teacher over N points: Σ|e|,
// Σe², the largest |e| (NaN if any is) and the row where it is first reached.
type ErrorStats struct {
	SumAbs, SumSq, Max float64
	ArgMax, N          int
}

// Comparer is a Model that evaluates its error against a teacher network on
// its own device, so that only the sums and the maximum come back.
type Comparer interface {
	// SetTeacher gives the model the teacher network (held in float64).
	SetTeacher(net *Net) error
	// Compare returns the statistics of model − teacher at the rows of x.
	Compare(x []float64) (ErrorStats, error)
}

// Describer is an Engine that can name the hardware it computes on (for
// status lines), e.g. "NVIDIA H200, 139.8 GiB".
type Describer interface {
	Describe() string
}
