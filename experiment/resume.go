package experiment

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sync/atomic"
	"time"

	"github.com/reluscope/reluscope/backend"
)

// StateFormat names the binary format of a run's saved state.
const StateFormat = "reluscope-run-state/v1"

// RunState is an Adam run stopped part-way: all it needs to go on and end
// with exactly the bits of a run that did not stop (the teacher and the
// samples are drawn again from the config's seeds; the evaluation points
// come from streams seeded per checkpoint).
type RunState struct {
	Format string
	// Hash is the run's ConfigHash; Engine and DType the engine it ran
	// on (a state goes on only on the same ones: other engines round
	// differently).
	Hash, Engine, DType string
	// Epoch is the epochs finished. Within epoch Epoch+1, Started says its
	// order is drawn (Perm holds it) and Lo is the first row of the next
	// batch; EpochSum is the epoch's summed loss so far.
	Epoch    int
	Started  bool
	Lo       int
	EpochSum float64
	// CheckpointDue: the run stopped while evaluating the checkpoint of
	// epoch Epoch; it is evaluated first.
	CheckpointDue bool
	LR, Loss      float64
	Steps         int64
	Student       *backend.Net
	Adam          backend.AdamState
	Shuffle       []byte // the data order's random source (PCG)
	Perm          []int
	History       []Checkpoint
	EpochLoss     []float64
	Elapsed       time.Duration
}

// maxStateBytes bounds a state file read back: the moments of the widest
// student the config allows, and some.
const maxStateBytes = 4 << 30

// saving counts the SaveStates in progress (SavingState).
var saving atomic.Int32

// SavingState says a run's state is being written: a process stopping on
// a signal waits for it (a state cut short would be lost, not torn).
func SavingState() bool { return saving.Load() > 0 }

// SaveState writes st to path atomically.
func SaveState(path string, st *RunState) error {
	saving.Add(1)
	defer saving.Add(-1)
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(st); err != nil {
		return fmt.Errorf("saving the run's state: %w", err)
	}
	return WriteFileAtomic(path, b.Bytes())
}

// LoadState reads a state written by SaveState; os.ErrNotExist when there
// is none.
func LoadState(path string) (*RunState, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var st RunState
	if err := gob.NewDecoder(io.LimitReader(f, maxStateBytes)).Decode(&st); err != nil {
		return nil, fmt.Errorf("%s is not a run state (%v): delete it to start the run over", Quote(path), err)
	}
	if st.Format != StateFormat {
		return nil, fmt.Errorf("%s is a state of format %s, want %s: delete it to start the run over", Quote(path), Quote(st.Format), StateFormat)
	}
	if st.Student == nil || st.Student.Validate() != nil {
		return nil, fmt.Errorf("%s holds no valid student: delete it to start the run over", Quote(path))
	}
	return &st, nil
}

// errNotResumable: the engine cannot read its optimizer's state.
var errNotResumable = errors.New("this engine cannot save its Adam state")

// state is the trainer's state now; the position within the epoch is
// (started, lo, sum), due says the epoch's checkpoint is still to come.
func (t *trainer) state(started bool, lo int, sum float64, due bool) (*RunState, error) {
	r, ok := t.student.(backend.Resumable)
	if !ok {
		return nil, errNotResumable
	}
	adam, err := r.AdamState()
	if err != nil {
		return nil, err
	}
	shuffle, err := t.pcg.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return &RunState{Format: StateFormat, Hash: ConfigHash(t.cfg), Engine: t.engine.Name(), DType: t.cfg.DType,
		Epoch: t.epoch, Started: started, Lo: lo, EpochSum: sum, CheckpointDue: due, LR: t.lr, Loss: t.loss, Steps: t.res.Steps,
		Student: t.student.Net(), Adam: adam, Shuffle: shuffle, Perm: append([]int(nil), t.perm...),
		History: append([]Checkpoint(nil), t.res.History...), EpochLoss: append([]float64(nil), t.res.EpochLoss...),
		Elapsed: t.elapsed(time.Now())}, nil
}

// save hands the state to Options.Save, if set (a one-shot error from an
// engine that cannot save is not the run's failure: it says so once).
func (t *trainer) save(started bool, lo int, sum float64, due bool) error {
	if t.opt.Save == nil || t.saveOff {
		return nil
	}
	st, err := t.state(started, lo, sum, due)
	if errors.Is(err, errNotResumable) {
		t.saveOff = true
		return nil
	}
	if err != nil {
		return err
	}
	return t.opt.Save(st)
}

// resume puts the trainer where state st stopped.
func (t *trainer) resume(st *RunState) error {
	if st.Hash != ConfigHash(t.cfg) {
		return fmt.Errorf("the saved state is of another config (hash %s, this run's %s)", st.Hash, ConfigHash(t.cfg))
	}
	if st.Engine != t.engine.Name() || st.DType != t.cfg.DType {
		return fmt.Errorf("the saved state ran on %s/%s, this run on %s/%s: other engines round differently", st.Engine, st.DType, t.engine.Name(), t.cfg.DType)
	}
	if len(st.Perm) != t.cfg.Samples || st.Lo < 0 || st.Lo > t.cfg.Samples || st.Epoch < 0 || len(st.History) == 0 {
		return fmt.Errorf("the saved state does not fit the config (%d samples, %d in its order)", t.cfg.Samples, len(st.Perm))
	}
	r, ok := t.student.(backend.Resumable)
	if !ok {
		return fmt.Errorf("backend %s: %w", t.engine.Name(), errNotResumable)
	}
	if err := r.SetAdamState(st.Adam); err != nil {
		return err
	}
	pcg := &rand.PCG{}
	if err := pcg.UnmarshalBinary(st.Shuffle); err != nil {
		return fmt.Errorf("the saved state's data order: %w", err)
	}
	t.pcg, t.rs = pcg, rand.New(pcg)
	copy(t.perm, st.Perm)
	t.epoch, t.lr, t.loss = st.Epoch, st.LR, st.Loss
	t.res.Steps, t.res.History, t.res.EpochLoss = st.Steps, st.History, st.EpochLoss
	t.resumed = st
	t.start = t.start.Add(-st.Elapsed)
	t.firstEpoch = t.epoch + 1
	return nil
}
