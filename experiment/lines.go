package experiment

import (
	"context"
	"math"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment/uniform"
)

// The explorer's line views (the teacher and the student along a line, the
// error between the samples, the fooling pair) are computed here from a
// run's student; the explorer only draws them. Each checks its context
// between its stages and gives up with the context's error when cancelled.

// LineProfile is the teacher and the student along a line through the
// cube: x(t) = t·e1 for d = 1, x(t) = (t, …, t) for d > 1, t ∈ [−0.5, 0.5].
type LineProfile struct {
	Cols             int
	Teacher, Student []float64 // one value per column
	WorstT, WorstErr float64   // largest |student − teacher| on a fine grid of the line
	GridPts          int
	// NoTeacher: the run learns a data file's samples; Teacher is nil
	// and there is no error to find on the line.
	NoTeacher bool
	Rug       []int // training samples per column (d = 1 only)
	Dim       int
}

// ErrorProfile is |student − teacher| along the line, on Cols columns.
type ErrorProfile struct {
	Cols    int
	Dim     int
	Between []float64 // the column's largest |e| on a fine grid
	At      []float64 // the column's largest |e| at a training sample (NaN: none)
	// The largest |e| on the fine grid and where, the largest at the
	// samples, and how many samples were measured.
	Peak, PeakT float64
	AtMax       float64
	Samples     int
	Why         string // why there is no profile ("" when there is)
}

// FoolProfile is the fooling pair of a run's samples drawn on Cols columns
// along the line through the bump's peak parallel to the first axis.
type FoolProfile struct {
	Fool    *uniform.Fool
	Why     string // why there is no pair for this class ("" when there is)
	Cols    int
	Student []float64 // the student along the line, one value per column
	Plus    []float64 // student + bump, the column's peak
	Rug     []int     // samples near the line per column
	Nearby  int       // how many samples are near the line (d ≥ 2)
	OnData  float64   // max |bump| over every training sample
	// The bump's height for the depths and widths around the class.
	Depths, Widths   []int
	ByDepth, ByWidth []float64
}

// FoolFine is how many fine points each column of a FoolProfile takes its
// peak over.
const FoolFine = 32

// LineX fills x (n×d) with the points of the diagonal line at parameters ts.
func LineX(ts []float64, d int) []float64 {
	x := make([]float64, len(ts)*d)
	for i, t := range ts {
		for k := 0; k < d; k++ {
			x[i*d+k] = t
		}
	}
	return x
}

// targetAt is the target at the n points x (n×d).
func targetAt(t Target, x []float64, d, n int) ([]float64, error) {
	y := make([]float64, n)
	return y, backend.PredictChunks(t.Predict, y, x, d, TargetBatch)
}

// PredictNet is net at the n points x (n×d) on the native engine.
func PredictNet(net *backend.Net, x []float64, n int) ([]float64, error) {
	m, err := backend.Native{}.New(net, backend.Options{MaxBatch: min(n, 4096)})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	y := make([]float64, n)
	return y, backend.PredictChunks(m.Predict, y, x, net.Sizes[0], 4096)
}

// NewLineProfile evaluates both networks on the line; the fine grid's size
// shrinks for large students so that it stays a fraction of a second.
func NewLineProfile(ctx context.Context, cfg Config, student *backend.Net, inputs []float64, cols int) (LineProfile, error) {
	d := student.Sizes[0]
	if cfg.DataFile != "" {
		return dataLineProfile(cfg, student, inputs, cols)
	}
	target, err := NewTarget(cfg)
	if err != nil {
		return LineProfile{}, err
	}
	defer target.Close()
	teacher := func(x []float64, n int) ([]float64, error) { return targetAt(target, x, d, n) }
	fd := LineProfile{Cols: cols, Dim: d}
	ts := make([]float64, cols)
	for i := range ts {
		ts[i] = -0.5 + float64(i)/float64(max(1, cols-1))
	}
	x := LineX(ts, d)
	if fd.Teacher, err = teacher(x, cols); err != nil {
		return fd, err
	}
	if fd.Student, err = PredictNet(student, x, cols); err != nil {
		return fd, err
	}
	if err := ctx.Err(); err != nil {
		return fd, err
	}
	fd.GridPts = max(cols*4, min(8192, int(4e8/float64(2*student.NumParams()))))
	fine := make([]float64, fd.GridPts)
	for i := range fine {
		fine[i] = -0.5 + float64(i)/float64(fd.GridPts-1)
	}
	fx := LineX(fine, d)
	yt, err := teacher(fx, len(fine))
	if err != nil {
		return fd, err
	}
	ys, err := PredictNet(student, fx, len(fine))
	if err != nil {
		return fd, err
	}
	fd.WorstErr = -1
	for i := range fine {
		if e := math.Abs(ys[i] - yt[i]); e > fd.WorstErr {
			fd.WorstErr, fd.WorstT = e, fine[i]
		}
	}
	if d == 1 {
		fd.Rug = make([]int, cols)
		for _, v := range inputs {
			c := int(math.Round((v + 0.5) * float64(cols-1)))
			fd.Rug[max(0, min(cols-1, c))]++
		}
	}
	return fd, nil
}

// dataLineProfile is the student along the line of a data run, which has
// no teacher, with the file's samples as the rug (d = 1).
func dataLineProfile(cfg Config, student *backend.Net, inputs []float64, cols int) (LineProfile, error) {
	d := student.Sizes[0]
	fd := LineProfile{Cols: cols, Dim: d, NoTeacher: true, WorstErr: math.NaN()}
	ts := make([]float64, cols)
	for i := range ts {
		ts[i] = -0.5 + float64(i)/float64(max(1, cols-1))
	}
	var err error
	if fd.Student, err = PredictNet(student, LineX(ts, d), cols); err != nil {
		return fd, err
	}
	if d == 1 {
		fd.Rug = make([]int, cols)
		for _, v := range inputs {
			c := int(math.Round((v + 0.5) * float64(cols-1)))
			fd.Rug[max(0, min(cols-1, c))]++
		}
	}
	return fd, nil
}

// noTeacher is the error profile's answer for a data run.
const noTeacher = "the samples of a data file have no teacher: there is no error between them to measure"

// NewErrorProfile evaluates |e| on a fine grid of the line (x for d = 1,
// the diagonal otherwise) and, in one dimension, at every training sample.
func NewErrorProfile(ctx context.Context, cfg Config, student *backend.Net, inputs []float64, cols int) (ErrorProfile, error) {
	d := student.Sizes[0]
	hd := ErrorProfile{Cols: cols, Dim: d}
	if cfg.DataFile != "" {
		hd.Why = noTeacher
		return hd, nil
	}
	target, err := NewTarget(cfg)
	if err != nil {
		return hd, err
	}
	defer target.Close()
	absErr := func(x []float64, n int) ([]float64, error) {
		yt, err := targetAt(target, x, d, n)
		if err != nil {
			return nil, err
		}
		ys, err := PredictNet(student, x, n)
		if err != nil {
			return nil, err
		}
		for i := range yt {
			yt[i] = math.Abs(ys[i] - yt[i])
		}
		return yt, nil
	}
	per := max(4, min(FoolFine, int(4e8/float64(2*student.NumParams())/float64(cols))))
	fine := make([]float64, cols*per)
	for i := range fine {
		fine[i] = -0.5 + (float64(i)+0.5)/float64(len(fine))
	}
	e, err := absErr(LineX(fine, d), len(fine))
	if err != nil {
		return hd, err
	}
	hd.Between = make([]float64, cols)
	hd.At = make([]float64, cols)
	for c := range hd.Between {
		top := 0.0
		for _, v := range e[c*per : (c+1)*per] {
			top = max(top, v)
		}
		hd.Between[c] = top
		hd.At[c] = math.NaN()
	}
	for i, v := range e {
		if v > hd.Peak {
			hd.Peak, hd.PeakT = v, fine[i]
		}
	}
	if d != 1 {
		return hd, nil
	}
	if err := ctx.Err(); err != nil {
		return hd, err
	}
	n := min(len(inputs), 1<<20)
	es, err := absErr(inputs[:n], n)
	if err != nil {
		return hd, err
	}
	hd.Samples = n
	for i, v := range es {
		hd.AtMax = max(hd.AtMax, v)
		c := max(0, min(cols-1, int((inputs[i]+0.5)*float64(cols))))
		if math.IsNaN(hd.At[c]) || v > hd.At[c] {
			hd.At[c] = v
		}
	}
	return hd, nil
}

// FoolClass is the teacher class of cfg with depth L and width n (L layers
// of weights: L−1 hidden layers).
func FoolClass(cfg Config, depth, width int) uniform.Class {
	sz := []int{cfg.Dim}
	for i := 1; i < depth; i++ {
		sz = append(sz, width)
	}
	return uniform.Class{Sizes: append(sz, 1), C: cfg.Coef}
}

// NewFoolProfile builds the fooling pair for the run's samples and draws it
// on the line through the bump's peak parallel to the first axis. A prev
// of the same run keeps its bump and heights (only the student changed).
func NewFoolProfile(ctx context.Context, cfg Config, student *backend.Net, inputs []float64, cols int, prev *FoolProfile) (FoolProfile, error) {
	fd := FoolProfile{Cols: cols}
	d := cfg.Dim
	if cfg.Target == TargetSine {
		fd.Why = "the sine target is not a network: there is no class to fool"
		return fd, nil
	}
	if prev != nil && prev.Fool != nil {
		fd.Fool, fd.OnData = prev.Fool, prev.OnData
		fd.Depths, fd.Widths, fd.ByDepth, fd.ByWidth = prev.Depths, prev.Widths, prev.ByDepth, prev.ByWidth
	} else {
		z, r := uniform.EmptyCube(inputs, d, cfg.DataSeed)
		m := len(inputs) / d
		f, err := uniform.BuildFoolIn(FoolClass(cfg, cfg.Depth, cfg.TeacherWidth), z, r, m)
		if err != nil {
			fd.Why = err.Error()
			return fd, nil
		}
		fd.Fool = f
		// The bump on every sample: zero, as the construction promises.
		n := min(m, 1<<20)
		y, err := PredictNet(f.Net, inputs[:n*d], n)
		if err != nil {
			return fd, err
		}
		for _, v := range y {
			fd.OnData = max(fd.OnData, math.Abs(v))
		}
		height := func(depth, width int) float64 {
			g, err := uniform.BuildFoolIn(FoolClass(cfg, depth, width), z, r, m)
			if err != nil {
				return math.NaN()
			}
			return g.Height
		}
		L, N := cfg.Depth, cfg.TeacherWidth
		fd.Depths = []int{max(2, L-1), L, L + 1}
		fd.Widths = []int{max(1, N/2), N, 2 * N}
		for _, l := range fd.Depths {
			if err := ctx.Err(); err != nil {
				return fd, err
			}
			fd.ByDepth = append(fd.ByDepth, height(l, N))
		}
		for _, w := range fd.Widths {
			if err := ctx.Err(); err != nil {
				return fd, err
			}
			fd.ByWidth = append(fd.ByWidth, height(L, w))
		}
	}
	f := fd.Fool
	z := f.Center
	// The line x(t) = (t, z2, …, zd); each column's fine points and the
	// peak itself.
	fine := make([]float64, cols*FoolFine)
	for i := range fine {
		fine[i] = -0.5 + (float64(i)+0.5)/float64(len(fine))
	}
	line := func(ts []float64) []float64 {
		x := make([]float64, len(ts)*d)
		for i, t := range ts {
			copy(x[i*d:], z)
			x[i*d] = t
		}
		return x
	}
	fx := line(fine)
	bump, err := PredictNet(f.Net, fx, len(fine))
	if err != nil {
		return fd, err
	}
	stu, err := PredictNet(student, fx, len(fine))
	if err != nil {
		return fd, err
	}
	peak, err := PredictNet(f.Net, line([]float64{z[0]}), 1)
	if err != nil {
		return fd, err
	}
	pc := min(cols-1, int((z[0]+0.5)*float64(cols)))
	fd.Student = make([]float64, cols)
	fd.Plus = make([]float64, cols)
	for c := 0; c < cols; c++ {
		mid := c*FoolFine + FoolFine/2
		fd.Student[c] = stu[mid]
		best := mid
		for i := c * FoolFine; i < (c+1)*FoolFine; i++ {
			if math.Abs(bump[i]) > math.Abs(bump[best]) {
				best = i
			}
		}
		fd.Plus[c] = stu[best] + bump[best]
	}
	if math.Abs(peak[0]) > math.Abs(fd.Plus[pc]-fd.Student[pc]) {
		fd.Plus[pc] = fd.Student[pc] + peak[0]
	}
	// Samples near the line: for d = 1 all of them; otherwise those within
	// the cube's half side of it in every other coordinate.
	fd.Rug = make([]int, cols)
	m := len(inputs) / d
	for i := 0; i < m; i++ {
		near := true
		for k := 1; k < d && near; k++ {
			near = math.Abs(inputs[i*d+k]-z[k]) <= f.HalfSide
		}
		if !near {
			continue
		}
		fd.Nearby++
		c := int((inputs[i*d] + 0.5) * float64(cols))
		fd.Rug[max(0, min(cols-1, c))]++
	}
	return fd, nil
}
