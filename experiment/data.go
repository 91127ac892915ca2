package experiment

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/internal/osutil"
)

// trainingSet is cfg's samples: the rows of its data file, or its
// training inputs labelled by the teacher.
func trainingSet(cfg Config, teacher Target) (X, Y []float64, err error) {
	d, m := cfg.Dim, cfg.Samples
	if cfg.DataFile != "" {
		// A user's samples instead of the teacher's; there is then no
		// target to measure errors against, only the training loss.
		if X, Y, err = LoadData(cfg.DataFile, d); err != nil {
			return nil, nil, err
		}
		if len(Y) != m {
			return nil, nil, fmt.Errorf("data_file %s has %d samples, the config %d (set samples to match)", cfg.DataFile, len(Y), m)
		}
		return X, Y, nil
	}
	X, Y = TrainingInputs(cfg), make([]float64, m)
	if err := backend.PredictChunks(teacher.Predict, Y, X, d, TargetBatch); err != nil {
		return nil, nil, err
	}
	return X, Y, nil
}

// MaxTarget is the largest |y| a data file may hold: its square, the
// loss, must stay finite in float64.
const MaxTarget = 1e150

// LoadData reads a CSV of training samples: d inputs (InCube says whether
// they lie in [−0.5, 0.5]^d, where a teacher's samples do) and the target
// per line (|y| ≤ MaxTarget), at most MaxSamples lines; an optional
// header line of words (a first line none of whose fields is a number), a
// UTF-8 byte-order mark before it is skipped.
func LoadData(path string, d int) (x, y []float64, err error) {
	f, err := osutil.OpenLimited(path, 1<<30)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	// Read as a stream, each line at most MaxDataLine: a file of one
	// huge field is refused at its first megabyte, not held whole.
	br := bufio.NewReader(f)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	lr := &lineLimit{r: br, max: MaxDataLine, line: 1}
	r := csv.NewReader(lr)
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.ReuseRecord = true
	for line := 1; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, errLongLine) {
			return nil, nil, fmt.Errorf("%s:%d: a line longer than %d bytes (a data line is %d numbers)", path, lr.line, MaxDataLine, d+1)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %s", path, Excerpt(err.Error(), 200))
		}
		if len(rec) != d+1 {
			return nil, nil, fmt.Errorf("%s:%d: %d columns, want %d (x1…x%d, y)", path, line, len(rec), d+1, d)
		}
		if line == 1 && isHeader(rec) {
			continue
		}
		for i, f := range rec {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			switch {
			case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
				return nil, nil, fmt.Errorf("%s:%d: %s is not a finite number", path, line, Quote(f))
			case i == d && math.Abs(v) > MaxTarget:
				return nil, nil, fmt.Errorf("%s:%d: y = %g is too large: its square overflows float64 (scale the targets to |y| ≤ %g)", path, line, v, MaxTarget)
			}
			if i < d {
				x = append(x, v)
			} else {
				y = append(y, v)
			}
		}
		if len(y) > MaxSamples {
			return nil, nil, fmt.Errorf("%s: more than %d samples", path, MaxSamples)
		}
	}
	if len(y) == 0 {
		return nil, nil, fmt.Errorf("%s: no samples", path)
	}
	return x, y, nil
}

// MaxDataLine is the longest line a data file may have: d + 1 numbers
// take well under a kilobyte even at the largest d.
const MaxDataLine = 1 << 16

var errLongLine = errors.New("line too long")

// lineLimit reads r, failing once a line grows past max bytes; line is
// the number of the line being read.
type lineLimit struct {
	r    io.Reader
	max  int
	cur  int
	line int
}

func (l *lineLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i, c := range p[:n] {
		if c == '\n' {
			l.cur = 0
			l.line++
			continue
		}
		if l.cur++; l.cur > l.max {
			return i, errLongLine
		}
	}
	return n, err
}

// isHeader says a first line is a header: no field of it is a number
// (NaN and Inf are numbers, to be refused, not a header).
func isHeader(rec []string) bool {
	for _, f := range rec {
		if _, err := strconv.ParseFloat(strings.TrimSpace(f), 64); err == nil || errors.Is(err, strconv.ErrRange) {
			return false
		}
	}
	return true
}

// InCube is the largest |x_i| of the inputs x when some lies outside
// [−0.5, 0.5], or 0 when all are inside.
func InCube(x []float64) float64 {
	out := 0.0
	for _, v := range x {
		if math.Abs(v) > 0.5 {
			out = max(out, math.Abs(v))
		}
	}
	return out
}
