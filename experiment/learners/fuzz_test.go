package learners

import (
	"context"
	"encoding/binary"
	"math"
	"testing"
	"time"
)

// FuzzLearners: any parameter set and any samples (up to 6, d = 1, values
// from raw bits: NaN, ±Inf, 1e200, subnormals) give every learner an
// error, a result without a finite loss (which experiment.Fit refuses),
// or a network whose loss is finite; never a panic.
func FuzzLearners(f *testing.F) {
	f.Add("-1,0,1", []byte{0, 0, 0, 0, 0, 0, 0xe0, 0x3f, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f})
	f.Add("1e200", []byte{0x7f, 0xf0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add("0.5,-0.5,2", make([]byte, 48))
	f.Fuzz(func(t *testing.T, set string, raw []byte) {
		var x, y []float64
		for i := 0; i+16 <= len(raw) && len(x) < 6; i += 16 {
			x = append(x, math.Float64frombits(binary.LittleEndian.Uint64(raw[i:])))
			y = append(y, math.Float64frombits(binary.LittleEndian.Uint64(raw[i+8:])))
		}
		if len(x) == 0 {
			return
		}
		for _, name := range Names() {
			l, _ := Get(name)
			p := Problem{Dim: 1, Width: 2, Samples: len(y), OutputBias: true, Set: set, Eps: 0.5}
			if l.Check(p) != nil {
				continue
			}
			// Bounded work stops with its context: a large set's search
			// ends after a second with an error.
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			r, err := l.Fit(ctx, p, x, y)
			cancel()
			if err != nil {
				continue
			}
			if r == nil {
				t.Fatalf("%s on set %q: no result and no error", name, set)
			}
			if r.Net != nil && !math.IsInf(r.Loss, 0) && !math.IsNaN(r.Loss) && r.Loss < 0 {
				t.Fatalf("%s on set %q: a negative loss %g", name, set, r.Loss)
			}
		}
	})
}
