package experiment

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/reluscope/reluscope/backend"
)

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
