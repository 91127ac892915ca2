package backend

import (
	"fmt"
	"reflect"
	"unsafe"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// gorgonia's AdamSolver keeps its step count and moments unexported
// (v0.9.18: iter int; cache []*dualValue, a dualValue{Value; d Value}
// holding the first moment in Value and the second in d, one per
// parameter in the order Step is given them: W0 b0 W1 b1 …). A run that
// resumes needs them, so they are reached by reflection; a gorgonia whose
// solver has another layout is refused with a clear error, not misread.

// solverField is field name of the solver, settable.
func solverField(s *G.AdamSolver, name string) (reflect.Value, error) {
	f := reflect.ValueOf(s).Elem().FieldByName(name)
	if !f.IsValid() {
		return f, fmt.Errorf("backend: this gorgonia's Adam solver has no %s: its state cannot be saved", name)
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem(), nil
}

// settable is field i of the struct v, settable.
func settable(v reflect.Value, i int) reflect.Value {
	f := v.Field(i)
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
}

// solverState reaches the step count and the moment cache.
func (m *gorg) solverState() (iter, cache reflect.Value, err error) {
	if iter, err = solverField(m.solver, "iter"); err != nil {
		return
	}
	if cache, err = solverField(m.solver, "cache"); err != nil {
		return
	}
	if iter.Kind() != reflect.Int || cache.Kind() != reflect.Slice || cache.Type().Elem().Kind() != reflect.Pointer ||
		cache.Type().Elem().Elem().Kind() != reflect.Struct || cache.Type().Elem().Elem().NumField() != 2 {
		return iter, cache, fmt.Errorf("backend: this gorgonia's Adam solver has another layout: its state cannot be saved")
	}
	return iter, cache, nil
}

// params are the model's parameter tensors in the solver's order.
func (m *gorg) params() []*tensor.Dense {
	var ps []*tensor.Dense
	for l := range m.w {
		ps = append(ps, m.w[l], m.b[l])
	}
	return ps
}

func (m *gorg) AdamState() (AdamState, error) {
	iter, cache, err := m.solverState()
	if err != nil {
		return AdamState{}, err
	}
	st := AdamState{Steps: int(iter.Int())}
	for i, p := range m.params() {
		n := p.Shape().TotalSize()
		var mv, vv G.Value
		if i < cache.Len() && !cache.Index(i).IsNil() {
			dv := cache.Index(i).Elem()
			mv, _ = settable(dv, 0).Interface().(G.Value)
			vv, _ = settable(dv, 1).Interface().(G.Value)
		}
		for _, pair := range []struct {
			v   G.Value
			dst *[]float64
		}{{mv, &st.M}, {vv, &st.V}} {
			if pair.v == nil { // no step yet: zero moments
				*pair.dst = append(*pair.dst, make([]float64, n)...)
				continue
			}
			t, ok := pair.v.(tensor.Tensor)
			if !ok || t.Shape().TotalSize() != n {
				return AdamState{}, fmt.Errorf("backend: gorgonia's Adam moment %d is not a tensor of %d values", i, n)
			}
			for k := 0; k < n; k++ {
				*pair.dst = append(*pair.dst, at(t, k))
			}
		}
	}
	return st, nil
}

func (m *gorg) SetAdamState(st AdamState) error {
	iter, cache, err := m.solverState()
	if err != nil {
		return err
	}
	ps := m.params()
	total := 0
	for _, p := range ps {
		total += p.Shape().TotalSize()
	}
	if len(st.M) != total || len(st.V) != total || st.Steps < 0 {
		return fmt.Errorf("backend: an Adam state of %d moments for a model of %d parameters", len(st.M), total)
	}
	c := reflect.MakeSlice(cache.Type(), len(ps), len(ps))
	off := 0
	for i, p := range ps {
		n := p.Shape().TotalSize()
		dv := reflect.New(cache.Type().Elem().Elem())
		for f, src := range [][]float64{st.M[off : off+n], st.V[off : off+n]} {
			t := tensor.New(tensor.WithShape(p.Shape().Clone()...), tensor.Of(m.dt))
			for k, v := range src {
				m.setAt(t, k, v)
			}
			settable(dv.Elem(), f).Set(reflect.ValueOf(G.Value(t)))
		}
		c.Index(i).Set(dv)
		off += n
	}
	cache.Set(c)
	iter.SetInt(int64(st.Steps))
	return nil
}
