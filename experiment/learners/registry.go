package learners

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/reluscope/reluscope/backend"
)

// Result is what a learner found: the network of least summed squared
// loss it reached and the work it took.
type Result struct {
	Net  *backend.Net
	Loss float64 // Σ_j (f(x_j) − y_j)² (the global optimum for exact-erm and discrete)
	// Work is what the learner counts (Learner.Unit): subproblems,
	// assignments or DP states, tuples.
	Work int64
	// Pruned counts what symmetry skipped (exact-erm); NetSize the unit
	// vectors of the ε-net (enumerate).
	Pruned  int64
	NetSize int
	Elapsed time.Duration
}

// Problem is one instance: a [Dim, Width, 1] network fitted to Samples
// samples, with an output bias unless !OutputBias, and the learners' own
// settings (Set for discrete, Eps for enumerate).
type Problem struct {
	Dim, Width, Samples int
	OutputBias          bool
	Set                 string  // discrete: the parameter set S, e.g. "-1,0,1"
	Eps                 float64 // enumerate: the ε of the net (0: 0.1)
}

// Learner is an algorithm besides Adam that fits one hidden layer to
// samples. Adding one: a file that implements it and registers it in an
// init; validation, the explorer's choices, the flag's usage and the run's
// summary read the registry.
type Learner interface {
	// Name is what --learner takes.
	Name() string
	// What is what Fit finds, for the summary ("the global optimum").
	What() string
	// Unit is what Result.Work counts ("convex subproblems").
	Unit() string
	// MaxDim is the largest input dimension it is built for (0: any).
	MaxDim() int
	// Check refuses an instance that would take too long or too much
	// memory, with the estimate of its work; it never does that work.
	Check(p Problem) error
	// Fit fits the samples x (m×Dim), y.
	Fit(ctx context.Context, p Problem, x, y []float64) (*Result, error)
}

var (
	mu       sync.RWMutex
	registry = map[string]Learner{}
)

// Register makes a learner available by its name; a second of the same
// name panics.
func Register(l Learner) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[l.Name()]; dup {
		panic("learners: Register called twice for " + l.Name())
	}
	registry[l.Name()] = l
}

// Get is the learner registered as name.
func Get(name string) (Learner, error) {
	mu.RLock()
	defer mu.RUnlock()
	if l, ok := registry[name]; ok {
		return l, nil
	}
	return nil, fmt.Errorf("learners: %q is not registered", name)
}

// Names are the registered learners, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
