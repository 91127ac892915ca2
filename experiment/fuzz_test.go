package experiment

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment/uniform"
)

// FuzzReadRecords: any bytes as a results file are read into valid records
// or an error naming a line; the tail repair never panics, never drops a
// record that was read, and leaves a file that ends in a newline.
func FuzzReadRecords(f *testing.F) {
	line, _ := json.Marshal(Record{Hash: "abc", Config: Default(), History: []Checkpoint{{}, {Epoch: 200}}})
	f.Add(append(append([]byte{}, line...), '\n'))
	f.Add(line)
	f.Add(append(append(append([]byte{}, line...), '\n'), line[:len(line)/2]...))
	f.Add([]byte("{}\n"))
	f.Add([]byte(`{"hash":"x","config":{"dim":0}}` + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "r.jsonl")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		recs, err := ReadRecords(p)
		for _, r := range recs {
			if cerr := r.check(); cerr != nil {
				t.Fatalf("an invalid record was returned: %v", cerr)
			}
		}
		if err != nil {
			return
		}
		if err := RepairTail(p); err != nil {
			t.Fatal(err)
		}
		after, err := ReadRecords(p)
		if err != nil || len(after) != len(recs) {
			t.Fatalf("the repair changed %d records into %d (%v)", len(recs), len(after), err)
		}
		if nb, _ := os.ReadFile(p); len(nb) > 0 && nb[len(nb)-1] != '\n' {
			t.Fatal("after the repair the file does not end in a newline")
		}
	})
}

// FuzzLoadNetwork: any bytes as a network file give a network an engine
// can run, or an error; never a panic.
func FuzzLoadNetwork(f *testing.F) {
	net := backend.NewNet([]int{2, 3, 1})
	net.InputScale = 1
	b, _ := json.Marshal(networkFile{Format: NetworkFormat, Activation: "relu", Net: net})
	f.Add(b)
	f.Add([]byte(`{"format":"` + NetworkFormat + `","activation":"relu","sizes":[4611686018427387904,4,1],"input_scale":1}`))
	f.Add([]byte(`{"format":"` + NetworkFormat + `","activation":"relu","sizes":[1,1],"input_scale":1,"w":[[1]],"b":[[0]]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "n.json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		n, err := LoadNetwork(p)
		if err != nil {
			return
		}
		if n.NumParams() > 1<<20 {
			return // valid, and too big to run in a fuzz iteration
		}
		m, err := backend.Native{}.New(n, backend.Options{MaxBatch: 2, Threads: 1})
		if err != nil {
			t.Fatalf("a loaded network does not build: %v", err)
		}
		defer m.Close()
		x := make([]float64, 2*n.Sizes[0])
		if err := m.Predict(make([]float64, 2), x); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzCheckpointJSON: a record whose checkpoint holds any float64 values
// (NaN, ±Inf, subnormals, the largest) in its metrics, training loss and
// true-sup bracket is written and read back bit for bit (any NaN as NaN).
func FuzzCheckpointJSON(f *testing.F) {
	f.Add(math.Float64bits(math.NaN()), math.Float64bits(math.Inf(1)), math.Float64bits(5e-324), math.Float64bits(1.7976931348623157e308))
	f.Add(uint64(0), math.Float64bits(math.Inf(-1)), math.Float64bits(math.Copysign(0, -1)), math.Float64bits(0.1))
	f.Fuzz(func(t *testing.T, a, b, c, d uint64) {
		fa, fb, fc, fd := math.Float64frombits(a), math.Float64frombits(b), math.Float64frombits(c), math.Float64frombits(d)
		cp := Checkpoint{Epoch: 3, LR: fd, TrainLoss: fa, Metrics: Metrics{L1: fb, L2: fc, Linf: fd, ArgMax: []float64{fa}, N: 7},
			Bracket: &uniform.Bracket{Lower: fc, Upper: fb, Method: uniform.MethodBracket}, EvalSeconds: 0.5}
		r := Record{Hash: "h", Config: Default(), History: []Checkpoint{{}, cp}}
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("a record with %v, %v, %v, %v is not written: %v", fa, fb, fc, fd, err)
		}
		var back Record
		if err := json.Unmarshal(line, &back); err != nil {
			t.Fatalf("not read back: %v\n%s", err, line)
		}
		g := back.History[1]
		same := func(x, y float64) bool {
			return math.Float64bits(x) == math.Float64bits(y) || (math.IsNaN(x) && math.IsNaN(y))
		}
		if !same(g.TrainLoss, fa) || !same(g.L1, fb) || !same(g.L2, fc) || !same(g.Linf, fd) || !same(g.LR, fd) ||
			len(g.ArgMax) != 1 || !same(g.ArgMax[0], fa) || g.Bracket == nil || !same(g.Lower, fc) || !same(g.Upper, fb) {
			t.Fatalf("%v, %v, %v, %v came back as %+v\n%s", fa, fb, fc, fd, g, line)
		}
	})
}
