package cuda

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
)

// A step takes one of three paths — the fused step (step_small, one block),
// the multi-block step (step_multi and reduce_adam) or the cuBLAS path (a
// kernel per operation) — and Compare one of two (eval_pair, or the cuBLAS
// path's forward passes and err_stats). They compute the same step to
// rounding, not bit for bit, so which one a shape takes is part of the
// engine: a fixed table, not a timing taken at run time, keeps "same seed,
// same backend, same numbers". The table is measured on a GPU by the device
// check (bench/gpu.sh device writes it from BenchmarkDevicePath and
// BenchmarkDeviceEvalPath into its out/paths.json); the one built in is
// paths.json beside this file, and RELUSCOPE_CUDA_PATHS names another.

// pathTable chooses the paths.
type pathTable struct {
	// Source says where the numbers come from (a GPU and a date, or that
	// they are estimates).
	Source string `json:"source"`
	// Steps, by max_width ascending: a network whose widest layer is at
	// most MaxWidth takes the first rule that admits it; wider than every
	// rule, the cuBLAS path.
	Steps []stepRule `json:"steps"`
	// PairMaxWidth is the widest network (student and teacher) Compare
	// takes eval_pair for (at most evalPairW).
	PairMaxWidth int `json:"pair_max_width"`
}

// stepRule: a step of 6·params·rows flops takes the fused path up to
// FusedFlops, else the multi-block path (blocks of MultiRows rows; 0:
// defaultMultiRows) up to MultiFlops, else cuBLAS.
type stepRule struct {
	MaxWidth   int     `json:"max_width"`
	FusedFlops float64 `json:"fused_max_flops"`
	MultiFlops float64 `json:"multi_max_flops"`
	MultiRows  int     `json:"multi_rows,omitempty"`
}

// The widest networks a table may send to the fused step (one block) and to
// the multi-block step (whose partial gradients take blocks × params).
const (
	fusedWidest = 256
	multiWidest = 64
)

// stepPath is the path of one step.
type stepPath int

const (
	pathCublas stepPath = iota
	pathFused
	pathMulti
)

func (p stepPath) String() string { return [...]string{"cublas", "fused", "multi"}[p] }

//go:embed paths.json
var builtinPaths []byte

// paths is the table in use: the built-in one, or RELUSCOPE_CUDA_PATHS's
// once loadPaths has read it (a variable: tests force a path).
var paths = mustParsePaths(builtinPaths, "backend/cuda/paths.json")

func mustParsePaths(b []byte, name string) pathTable {
	t, err := parsePaths(bytes.NewReader(b), name)
	if err != nil {
		panic(err)
	}
	return t
}

// pathsEnv names a table file to use instead of the built-in one.
const pathsEnv = "RELUSCOPE_CUDA_PATHS"

// loadPaths sets paths from RELUSCOPE_CUDA_PATHS when it is set.
func loadPaths() error {
	name := os.Getenv(pathsEnv)
	if name == "" {
		return nil
	}
	// Checked before it is opened, so that a FIFO never blocks (as
	// internal/osutil.OpenLimited does).
	if fi, err := os.Stat(name); err != nil {
		return fmt.Errorf("cuda: %s: %w", pathsEnv, err)
	} else if !fi.Mode().IsRegular() {
		return fmt.Errorf("cuda: %s=%s is not a regular file", pathsEnv, name)
	}
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("cuda: %s: %w", pathsEnv, err)
	}
	defer f.Close()
	t, err := parsePaths(f, name)
	if err != nil {
		return err
	}
	paths = t
	return nil
}

// parsePaths reads and checks a table (at most 64 KiB of JSON).
func parsePaths(r io.Reader, name string) (pathTable, error) {
	const most = 64 << 10
	b, err := io.ReadAll(io.LimitReader(r, most+1))
	if err != nil {
		return pathTable{}, fmt.Errorf("cuda: path table %s: %w", name, err)
	}
	if len(b) > most {
		return pathTable{}, fmt.Errorf("cuda: path table %s is over %d KiB", name, most>>10)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var t pathTable
	if err := dec.Decode(&t); err != nil {
		return pathTable{}, fmt.Errorf("cuda: path table %s: %w", name, err)
	}
	bad := func(format string, a ...any) (pathTable, error) {
		return pathTable{}, fmt.Errorf("cuda: path table %s: "+format, append([]any{name}, a...)...)
	}
	for i, r := range t.Steps {
		if r.MaxWidth < 1 || r.MaxWidth > fusedWidest {
			return bad("steps[%d].max_width = %d, want 1 to %d", i, r.MaxWidth, fusedWidest)
		}
		if r.MultiFlops > r.FusedFlops && r.MaxWidth > multiWidest {
			return bad("steps[%d] sends networks %d wide to the multi-block step, which takes at most %d", i, r.MaxWidth, multiWidest)
		}
		if i > 0 && r.MaxWidth <= t.Steps[i-1].MaxWidth {
			return bad("steps[%d].max_width = %d after %d: want them ascending", i, r.MaxWidth, t.Steps[i-1].MaxWidth)
		}
		if r.MultiRows != 0 && (r.MultiRows < 8 || r.MultiRows > 1024) {
			return bad("steps[%d].multi_rows = %d, want 8 to 1024 (0: %d)", i, r.MultiRows, defaultMultiRows)
		}
		for _, f := range []float64{r.FusedFlops, r.MultiFlops} {
			if !(f >= 0) || math.IsInf(f, 0) {
				return bad("steps[%d]: flops %v, want ≥ 0", i, f)
			}
		}
	}
	if t.PairMaxWidth < 0 || t.PairMaxWidth > evalPairW {
		return bad("pair_max_width = %d, want 0 to %d (eval_pair's widest)", t.PairMaxWidth, evalPairW)
	}
	return t, nil
}

// rule is the step rule for a network whose widest layer is w (nil: none,
// the cuBLAS path).
func (t *pathTable) rule(w int) *stepRule {
	i := sort.Search(len(t.Steps), func(i int) bool { return t.Steps[i].MaxWidth >= w })
	if i == len(t.Steps) {
		return nil
	}
	return &t.Steps[i]
}

// step is the path of a step of n rows of a network with these sizes
// (widest layer w, params parameters).
func (t *pathTable) step(w, params, n int) stepPath { return t.rule(w).step(params, n) }

// multiAt reports whether any step of a network w wide may take the
// multi-block path (its layout then holds the partial gradients), and the
// rows of its blocks.
func (t *pathTable) multiAt(w int) (bool, int) { return t.rule(w).multi() }

// step is the path of a step of n rows of a network of params parameters
// under the rule (nil: none, the cuBLAS path).
func (r *stepRule) step(params, n int) stepPath {
	if r == nil {
		return pathCublas
	}
	switch f := 6 * float64(params) * float64(n); {
	case f <= r.FusedFlops:
		return pathFused
	case f <= r.MultiFlops:
		return pathMulti
	}
	return pathCublas
}

// multi reports whether the rule sends any step to the multi-block path,
// and the rows of its blocks.
func (r *stepRule) multi() (bool, int) {
	if r == nil || r.MultiFlops <= r.FusedFlops {
		return false, defaultMultiRows
	}
	if r.MultiRows == 0 {
		return true, defaultMultiRows
	}
	return true, r.MultiRows
}
