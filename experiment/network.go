package experiment

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/internal/osutil"
)

// Streams of the seeded sources, so that one seed can drive several
// independent sequences.
const (
	streamTeacher = 1
	streamInit    = 2
	streamData    = 3
	streamShuffle = 4
	streamEval    = 5
)

func newRand(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

// SampleTeacher draws the teacher: every weight and bias i.i.d. U[−c, c],
// no input standardization.
func SampleTeacher(cfg Config) *backend.Net {
	n := backend.NewNet(cfg.TeacherSizes())
	n.FillUniform(newRand(cfg.TeacherSeed, streamTeacher), func(int) float64 { return cfg.Coef })
	return n
}

// InitStudent draws the student as PyTorch's nn.Linear does by default:
// weights and biases of a layer with fan-in k i.i.d. U[−1/√k, 1/√k].
func InitStudent(cfg Config) *backend.Net {
	n := backend.NewNet(cfg.StudentSizes())
	if cfg.Standardize {
		n.InputScale = 1 / Sigma
	}
	n.FillUniform(newRand(cfg.InitSeed, streamInit), func(l int) float64 { return 1 / math.Sqrt(float64(n.Sizes[l])) })
	return n
}

// NetworkFormat names the JSON schema of a saved network.
const NetworkFormat = "reluscope-network/v1"

// networkFile is the JSON schema of a saved network:
//
//	{
//	  "format": "reluscope-network/v1",
//	  "role": "teacher" | "student",
//	  "activation": "relu",          // between layers, none after the last
//	  "sizes": [d, N1, …, 1],        // layer widths
//	  "input_scale": 3.4641…,        // x is multiplied by this first (1/σ)
//	  "weights": [[…], …],           // weights[l]: row-major sizes[l+1]×sizes[l]
//	  "biases": [[…], …]             // biases[l]: sizes[l+1] values
//	}
//
// The output is W_L·ReLU(…ReLU(W_1·(s·x) + b_1)…) + b_L.
type networkFile struct {
	Format     string `json:"format"`
	Role       string `json:"role,omitempty"`
	Activation string `json:"activation"`
	*backend.Net
}

// SaveNetwork writes net as JSON to path atomically.
func SaveNetwork(path, role string, net *backend.Net) error {
	b, err := json.Marshal(networkFile{Format: NetworkFormat, Role: role, Activation: "relu", Net: net})
	if err != nil {
		return err
	}
	return osutil.WriteFileAtomic(path, append(b, '\n'))
}

// LoadNetwork reads a network saved by SaveNetwork and validates it.
func LoadNetwork(path string) (*backend.Net, error) {
	// Decoded as it is read: a file that is not JSON fails at its first
	// bytes, not after a gigabyte is in memory.
	r, err := osutil.OpenLimited(path, MaxNetworkBytes)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f := networkFile{Net: &backend.Net{}}
	dec := json.NewDecoder(r)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %s", path, Excerpt(err.Error(), 200))
	}
	if f.Format != NetworkFormat {
		return nil, fmt.Errorf("%s: format %s, want %q", path, Quote(f.Format), NetworkFormat)
	}
	if f.Activation != "relu" {
		return nil, fmt.Errorf("%s: activation %s, only relu is supported", path, Quote(f.Activation))
	}
	if err := f.Net.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f.Net, nil
}

// TrainingInputs are the m training inputs (m×d, row-major) a run with cfg
// draws from its data seed.
func TrainingInputs(cfg Config) []float64 {
	X := make([]float64, cfg.Samples*cfg.Dim)
	rd := newRand(cfg.DataSeed, streamData)
	for i := range X {
		X[i] = rd.Float64() - 0.5
	}
	return X
}

// StartStudent is the network a run of cfg trains from: InitFile's if set
// (its shape and input scale checked against the config's), else a fresh
// InitStudent.
func StartStudent(cfg Config) (*backend.Net, error) {
	if cfg.InitFile == "" {
		return InitStudent(cfg), nil
	}
	want := InitStudent(cfg)
	net, err := loadShaped(cfg.InitFile, "init_file", want.Sizes)
	if err != nil {
		return nil, err
	}
	if net.InputScale != want.InputScale {
		return nil, fmt.Errorf("init_file %s: input scale %g, the config's student has %g (standardize %v)", cfg.InitFile, net.InputScale, want.InputScale, cfg.Standardize)
	}
	return net, nil
}

// teacherNet is the teacher of cfg: TeacherFile's if set, else drawn.
func teacherNet(cfg Config) (*backend.Net, error) {
	if cfg.TeacherFile == "" {
		return SampleTeacher(cfg), nil
	}
	return loadShaped(cfg.TeacherFile, "teacher_file", cfg.TeacherSizes())
}

// loadShaped loads a saved network and checks its layer sizes.
func loadShaped(path, key string, sizes []int) (*backend.Net, error) {
	net, err := LoadNetwork(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if !slices.Equal(net.Sizes, sizes) {
		return nil, fmt.Errorf("%s %s: the network has layers %v, the config wants %v (set dim, depth and widths to match)", key, path, net.Sizes, sizes)
	}
	return net, nil
}
