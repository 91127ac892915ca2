package experiment

import (
	"fmt"
	"math"

	"github.com/reluscope/reluscope/backend"
)

// Targets a run can learn.
const (
	// TargetTeacher is a random ReLU network of the class (the default).
	TargetTeacher = "teacher"
	// TargetSine is the paper's Figure 1 function on [−0.5, 0.5]:
	// u(x) = log(sin(50x) + 2) + sin(5x) (d = 1 only).
	TargetSine = "sine"
)

// Target is the function a run samples and measures against.
type Target interface {
	// Predict writes u(x) for each row of x into dst.
	Predict(dst, x []float64) error
	// Net is the teacher network, or nil for an analytic target.
	Net() *backend.Net
	Close() error
}

// NewTarget builds cfg's target; for the teacher it is drawn from TeacherSeed.
func NewTarget(cfg Config) (Target, error) { return newTarget(cfg, 0) }

// newTarget builds the target of a config; the target's validity is
// Config.Validate's to check.
func newTarget(cfg Config, threads int) (Target, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Target == TargetSine {
		return sineTarget{}, nil
	}
	net, err := teacherNet(cfg)
	if err != nil {
		return nil, err
	}
	m, err := backend.Native{}.New(net, backend.Options{MaxBatch: TargetBatch, Threads: threads})
	if err != nil {
		return nil, err
	}
	return teacherTarget{m, net}, nil
}

type teacherTarget struct {
	backend.Model
	net *backend.Net
}

func (t teacherTarget) Net() *backend.Net { return t.net }

type sineTarget struct{}

// Sine is the Figure 1 target u(x) = log(sin(50x) + 2) + sin(5x).
func Sine(x float64) float64 { return math.Log(math.Sin(50*x)+2) + math.Sin(5*x) }

func (sineTarget) Predict(dst, x []float64) error {
	if len(dst) != len(x) {
		panic(fmt.Sprintf("experiment: sine target got %d points for %d outputs", len(x), len(dst)))
	}
	for i, v := range x {
		dst[i] = Sine(v)
	}
	return nil
}
func (sineTarget) Net() *backend.Net { return nil }
func (sineTarget) Close() error      { return nil }
