package backend

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Gorgonia builds the network as a gorgonia expression graph with symbolic
// gradients and gorgonia's Adam solver. A graph is built once per batch shape
// (training and prediction separately) and cached; every graph binds the same
// parameter tensors, so an Adam step on one is seen by all.
type Gorgonia struct{}

func init() { Register(Gorgonia{}) }

func (Gorgonia) Name() string     { return "gorgonia" }
func (Gorgonia) Available() error { return nil }

func (Gorgonia) New(net *Net, opt Options) (Model, error) {
	if err := net.Validate(); err != nil {
		return nil, err
	}
	dt := tensor.Float64
	if opt.DType == Float32 {
		dt = tensor.Float32
	}
	a := opt.Adam.WithDefaults()
	m := &gorg{
		sizes: append([]int(nil), net.Sizes...),
		scale: net.InputScale,
		dt:    dt,
		train: map[int]*ggraph{},
		pred:  map[int]*ggraph{},
	}
	m.solver = G.NewAdamSolver(G.WithBeta1(a.Beta1), G.WithBeta2(a.Beta2), G.WithEps(a.Eps), G.WithLearnRate(1e-3))
	for l := 0; l < net.Layers(); l++ {
		in, out := net.Sizes[l], net.Sizes[l+1]
		m.w = append(m.w, tensor.New(tensor.WithShape(in, out), tensor.Of(dt)))
		m.b = append(m.b, tensor.New(tensor.WithShape(1, out), tensor.Of(dt)))
	}
	m.setNet(net)
	return m, nil
}

type gorg struct {
	sizes  []int
	scale  float64
	dt     tensor.Dtype
	w, b   []*tensor.Dense // W stored transposed (in×out) so a layer is h·W + b
	solver *G.AdamSolver
	train  map[int]*ggraph
	pred   map[int]*ggraph
}

type ggraph struct {
	g       *G.ExprGraph
	x, y    *tensor.Dense
	params  G.Nodes
	out     *G.Node
	loss    *G.Node
	vm      G.VM
	lossVal G.Value
	outVal  G.Value
}

func (m *gorg) setNet(net *Net) {
	for l := range m.w {
		in, out := m.sizes[l], m.sizes[l+1]
		for o := 0; o < out; o++ {
			for i := 0; i < in; i++ {
				m.setAt(m.w[l], i*out+o, net.W[l][o*in+i])
			}
			m.setAt(m.b[l], o, net.B[l][o])
		}
	}
}

func (m *gorg) setAt(t *tensor.Dense, i int, v float64) {
	if m.dt == tensor.Float32 {
		t.Data().([]float32)[i] = float32(v)
	} else {
		t.Data().([]float64)[i] = v
	}
}

func at(t tensor.Tensor, i int) float64 {
	switch d := t.Data().(type) {
	case []float32:
		return float64(d[i])
	case []float64:
		return d[i]
	case float32:
		return float64(d)
	case float64:
		return d
	}
	panic(fmt.Sprintf("backend: unexpected gorgonia data %T", t.Data()))
}

func scalar(v G.Value) float64 {
	switch x := v.Data().(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	}
	return at(v.(tensor.Tensor), 0)
}

// graph returns the cached graph for batch size n, building it on first use.
func (m *gorg) graph(n int, withLoss bool) (*ggraph, error) {
	cache := m.pred
	if withLoss {
		cache = m.train
	}
	if gg, ok := cache[n]; ok {
		return gg, nil
	}
	gg := &ggraph{g: G.NewGraph()}
	gg.x = tensor.New(tensor.WithShape(n, m.sizes[0]), tensor.Of(m.dt))
	x := G.NewMatrix(gg.g, m.dt, G.WithShape(n, m.sizes[0]), G.WithName("x"), G.WithValue(gg.x))
	h := x
	L := len(m.sizes) - 1
	var err error
	for l := 0; l < L; l++ {
		// Every parameter node needs its own name: gorgonia merges nodes
		// of equal type, shape and name.
		w := G.NewMatrix(gg.g, m.dt, G.WithShape(m.sizes[l], m.sizes[l+1]), G.WithName(fmt.Sprintf("W%d", l)), G.WithValue(m.w[l]))
		b := G.NewMatrix(gg.g, m.dt, G.WithShape(1, m.sizes[l+1]), G.WithName(fmt.Sprintf("b%d", l)), G.WithValue(m.b[l]))
		gg.params = append(gg.params, w, b)
		if h, err = G.Mul(h, w); err != nil {
			return nil, err
		}
		if h, err = G.BroadcastAdd(h, b, nil, []byte{0}); err != nil {
			return nil, err
		}
		if l+1 < L {
			if h, err = G.Rectify(h); err != nil {
				return nil, err
			}
		}
	}
	gg.out = h
	G.Read(gg.out, &gg.outVal)
	if withLoss {
		gg.y = tensor.New(tensor.WithShape(n, 1), tensor.Of(m.dt))
		y := G.NewMatrix(gg.g, m.dt, G.WithShape(n, 1), G.WithName("y"), G.WithValue(gg.y))
		diff, err := G.Sub(h, y)
		if err != nil {
			return nil, err
		}
		sq, err := G.Square(diff)
		if err != nil {
			return nil, err
		}
		if gg.loss, err = G.Mean(sq); err != nil {
			return nil, err
		}
		G.Read(gg.loss, &gg.lossVal)
		if _, err = G.Grad(gg.loss, gg.params...); err != nil {
			return nil, err
		}
		gg.vm = G.NewTapeMachine(gg.g, G.BindDualValues(gg.params...))
	} else {
		gg.vm = G.NewTapeMachine(gg.g)
	}
	cache[n] = gg
	return gg, nil
}

func (m *gorg) load(dst *tensor.Dense, src []float64, scale float64) {
	switch d := dst.Data().(type) {
	case []float32:
		for i, v := range src {
			d[i] = float32(v * scale)
		}
	case []float64:
		for i, v := range src {
			d[i] = v * scale
		}
	}
}

func (m *gorg) run(x, y []float64) (*ggraph, float64, error) {
	n := CheckBatch(m.sizes, x, y)
	gg, err := m.graph(n, true)
	if err != nil {
		return nil, 0, err
	}
	m.load(gg.x, x, m.scale)
	m.load(gg.y, y, 1)
	if err := gg.vm.RunAll(); err != nil {
		gg.vm.Reset()
		return nil, 0, err
	}
	return gg, scalar(gg.lossVal), nil
}

func (m *gorg) Step(x, y []float64, lr float64) (float64, error) {
	gg, loss, err := m.run(x, y)
	if err != nil {
		return 0, err
	}
	defer gg.vm.Reset()
	if !finite(loss) {
		return loss, ErrDiverged
	}
	G.WithLearnRate(lr)(m.solver)
	if err := m.solver.Step(G.NodesToValueGrads(gg.params)); err != nil {
		return loss, err
	}
	return loss, nil
}

func (m *gorg) Gradient(dst *Net, x, y []float64) (float64, error) {
	gg, loss, err := m.run(x, y)
	if err != nil {
		return 0, err
	}
	defer gg.vm.Reset()
	for l := range m.w {
		gw, err := gg.params[2*l].Grad()
		if err != nil {
			return 0, err
		}
		gb, err := gg.params[2*l+1].Grad()
		if err != nil {
			return 0, err
		}
		in, out := m.sizes[l], m.sizes[l+1]
		for o := 0; o < out; o++ {
			for i := 0; i < in; i++ {
				dst.W[l][o*in+i] = at(gw.(tensor.Tensor), i*out+o)
			}
			dst.B[l][o] = at(gb.(tensor.Tensor), o)
		}
		// The gradients are not consumed by a solver here: clear them so a
		// later Step starts from zero.
		gw.(tensor.Tensor).Zero()
		gb.(tensor.Tensor).Zero()
	}
	return loss, nil
}

func (m *gorg) Predict(dst, x []float64) error {
	n := CheckBatch(m.sizes, x, nil)
	if len(dst) != n {
		panic("backend: Predict dst length differs from the number of rows")
	}
	gg, err := m.graph(n, false)
	if err != nil {
		return err
	}
	m.load(gg.x, x, m.scale)
	defer gg.vm.Reset()
	if err := gg.vm.RunAll(); err != nil {
		return err
	}
	t := gg.outVal.(tensor.Tensor)
	for i := range dst {
		dst[i] = at(t, i)
	}
	return nil
}

func (m *gorg) Net() *Net {
	net := NewNet(m.sizes)
	net.InputScale = m.scale
	for l := range m.w {
		in, out := m.sizes[l], m.sizes[l+1]
		for o := 0; o < out; o++ {
			for i := 0; i < in; i++ {
				net.W[l][o*in+i] = at(m.w[l], i*out+o)
			}
			net.B[l][o] = at(m.b[l], o)
		}
	}
	return net
}

func (m *gorg) Close() error {
	for _, c := range []map[int]*ggraph{m.train, m.pred} {
		for k, gg := range c {
			gg.vm.Close()
			delete(c, k)
		}
	}
	return nil
}
