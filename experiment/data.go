package experiment

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/reluscope/reluscope/backend"
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

// LoadData reads a CSV of training samples: d inputs and the target per
// line, an optional header line; at most MaxSamples lines.
func LoadData(path string, d int) (x, y []float64, err error) {
	b, err := ReadFileLimited(path, 1<<30)
	if err != nil {
		return nil, nil, err
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	for line := 1; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", path, err)
		}
		if len(rec) != d+1 {
			return nil, nil, fmt.Errorf("%s:%d: %d columns, want %d (x1…x%d, y)", path, line, len(rec), d+1, d)
		}
		vals := make([]float64, d+1)
		for i, f := range rec {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				if line == 1 && len(y) == 0 && i == 0 {
					vals = nil // a header
					break
				}
				return nil, nil, fmt.Errorf("%s:%d: %q is not a number", path, line, f)
			}
			vals[i] = v
		}
		if vals == nil {
			continue
		}
		x = append(x, vals[:d]...)
		y = append(y, vals[d])
		if len(y) > MaxSamples {
			return nil, nil, fmt.Errorf("%s: more than %d samples", path, MaxSamples)
		}
	}
	if len(y) == 0 {
		return nil, nil, fmt.Errorf("%s: no samples", path)
	}
	return x, y, nil
}
