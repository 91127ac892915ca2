package experiment

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync/atomic"
	"time"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/internal/osutil"
)

// StateFormat names the binary format of a run's saved state. A state
// file is the line StateFormat+"\n", the SHA-256 of the rest, and the
// state's gob encoding.
const StateFormat = "reluscope-run-state/v2"

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

// SaveState writes st to path atomically, with its checksum.
func SaveState(path string, st *RunState) error {
	saving.Add(1)
	defer saving.Add(-1)
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(st); err != nil {
		return fmt.Errorf("saving the run's state: %w", err)
	}
	sum := sha256.Sum256(b.Bytes())
	out := make([]byte, 0, len(StateFormat)+1+len(sum)+b.Len())
	out = append(append(append(out, StateFormat+"\n"...), sum[:]...), b.Bytes()...)
	return osutil.WriteFileAtomic(path, out)
}

// DamagedStateError says a state file cannot be trusted: not a state of
// this format, a checksum that does not match, or contents that do not fit
// the run it is named for.
type DamagedStateError struct {
	Path, Why string
}

func (e *DamagedStateError) Error() string {
	return fmt.Sprintf("the saved state %s is damaged (%s)", Quote(e.Path), e.Why)
}

// LoadState reads a state written by SaveState: os.ErrNotExist when there
// is none, a *DamagedStateError when what is there is not a whole state,
// another error when the file cannot be read.
func LoadState(path string) (*RunState, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	damaged := func(format string, a ...any) error {
		return &DamagedStateError{Path: path, Why: fmt.Sprintf(format, a...)}
	}
	if !fi.Mode().IsRegular() {
		return nil, damaged("not a regular file")
	}
	if fi.Size() > maxStateBytes {
		return nil, damaged("%d bytes, more than a state may have", fi.Size())
	}
	b, err := osutil.ReadFileLimited(path, maxStateBytes)
	if err != nil {
		return nil, err
	}
	head := StateFormat + "\n"
	rest, ok := bytes.CutPrefix(b, []byte(head))
	if !ok {
		if line, _, _ := bytes.Cut(b[:min(len(b), 64)], []byte("\n")); bytes.HasPrefix(line, []byte("reluscope-run-state/")) {
			return nil, damaged("format %s, this reluscope reads %s", Quote(string(line)), StateFormat)
		}
		return nil, damaged("not a run state of format %s", StateFormat)
	}
	if len(rest) < sha256.Size {
		return nil, damaged("cut short: %d bytes", len(b))
	}
	want, payload := rest[:sha256.Size], rest[sha256.Size:]
	if sum := sha256.Sum256(payload); !bytes.Equal(sum[:], want) {
		return nil, damaged("its checksum does not match its contents")
	}
	var st RunState
	if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(&st); err != nil {
		return nil, damaged("undecodable: %v", err)
	}
	if st.Format != StateFormat {
		return nil, damaged("format %s inside, want %s", Quote(st.Format), StateFormat)
	}
	if st.Student == nil || st.Student.Validate() != nil {
		return nil, damaged("no valid student")
	}
	return &st, nil
}

// fits checks that st can be the state of an Adam run of cfg (whose hash it
// carries): the student's layers, the epoch and step counts, the learning
// rate of its epoch, the checkpoints, and a data order that is a
// permutation of the samples with the next batch's first row on a batch
// boundary. A state that passes goes on to the bits of an unstopped run.
func (st *RunState) fits(cfg Config) error {
	m, bs := cfg.Samples, cfg.BatchSize()
	spe := int64(cfg.StepsPerEpoch())
	if !equalInts(st.Student.Sizes, cfg.StudentSizes()) {
		return fmt.Errorf("a student of layers %v, the config's %v", st.Student.Sizes, cfg.StudentSizes())
	}
	n := st.Student.NumParams()
	if len(st.Adam.M) != n || len(st.Adam.V) != n {
		return fmt.Errorf("the Adam moments: %d and %d values for %d parameters", len(st.Adam.M), len(st.Adam.V), n)
	}
	if st.Epoch < 0 || st.Epoch > cfg.TotalEpochs() || st.CheckpointDue && st.Started {
		return fmt.Errorf("epoch %d of %d", st.Epoch, cfg.TotalEpochs())
	}
	lo := 0
	if st.Started {
		lo = st.Lo
		if lo < 0 || lo > m || lo%bs != 0 && lo != m || st.Epoch >= cfg.TotalEpochs() {
			return fmt.Errorf("the next batch at row %d of %d (batches of %d) in epoch %d", lo, m, bs, st.Epoch+1)
		}
	} else if st.Lo != 0 {
		return fmt.Errorf("row %d between epochs", st.Lo)
	}
	if want := int64(st.Epoch)*spe + int64((lo+bs-1)/bs); st.Steps != want {
		return fmt.Errorf("%d steps where epoch %d, row %d makes %d", st.Steps, st.Epoch, lo, want)
	}
	if want := cfg.LRAt(min(st.Epoch, cfg.Epochs)); st.LR != want {
		return fmt.Errorf("learning rate %v after epoch %d, the config's %v", st.LR, st.Epoch, want)
	}
	if len(st.EpochLoss) != st.Epoch {
		return fmt.Errorf("%d epochs' losses after epoch %d", len(st.EpochLoss), st.Epoch)
	}
	if len(st.History) == 0 || st.History[0].Epoch != 0 {
		return fmt.Errorf("no checkpoint of epoch 0")
	}
	for k, c := range st.History {
		if c.Epoch > st.Epoch || k > 0 && c.Epoch <= st.History[k-1].Epoch || !cfg.IsCheckpoint(c.Epoch) {
			return fmt.Errorf("checkpoint %d at epoch %d", k, c.Epoch)
		}
	}
	if len(st.Perm) != m {
		return fmt.Errorf("a data order of %d rows for %d samples", len(st.Perm), m)
	}
	seen := make([]bool, m)
	for _, i := range st.Perm {
		if i < 0 || i >= m || seen[i] {
			return fmt.Errorf("a data order that is not a permutation of the %d samples", m)
		}
		seen[i] = true
	}
	if err := (&rand.PCG{}).UnmarshalBinary(st.Shuffle); err != nil {
		return fmt.Errorf("the data order's random source: %v", err)
	}
	return nil
}

// OpenState finds the state a run of cfg goes on from at path. It returns
// the state when there is one this run can trust; nil and a note when the
// file there is not used — of another config (left to be overwritten), or
// damaged, which is moved aside to path+".corrupt" so that it is kept for
// a look and the run starts over; nil, "" when there is none. An error is
// a file that could not be read or moved (the disk, not the state).
func OpenState(path string, cfg Config) (*RunState, string, error) {
	st, err := LoadState(path)
	var dmg *DamagedStateError
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, "", nil
	case errors.As(err, &dmg):
	case err != nil:
		return nil, "", fmt.Errorf("%w: %w", ErrRunFiles, err)
	case st.Hash != ConfigHash(cfg) || cfg.UsesLearner():
		return nil, fmt.Sprintf("the saved state %s is of another config (hash %s, this run's %s): not used", Quote(path), st.Hash, ConfigHash(cfg)), nil
	default:
		if ferr := st.fits(cfg); ferr != nil {
			dmg = &DamagedStateError{Path: path, Why: "it does not fit its config: " + ferr.Error()}
		} else {
			return st, "", nil
		}
	}
	aside := path + ".corrupt"
	if err := os.Rename(path, aside); err != nil {
		return nil, "", fmt.Errorf("%w: %v, and moving it aside failed: %w", ErrRunFiles, dmg, err)
	}
	return nil, fmt.Sprintf("%v: moved to %s; the run starts over", dmg, Quote(aside)), nil
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

// ErrRunFiles marks an error reading or writing a run's own files (its
// state): the disk's failure, not the run's. RunJob records nothing for it.
var ErrRunFiles = errors.New("the run's own files failed")

// save hands the state to Options.Save, if set (a one-shot error from an
// engine that cannot save is not the run's failure: it says so once). A
// save that fails leaves the previous state whole (states are written
// atomically) and the run goes on; the next save tries again, and a second
// failure in a row stops the run with ErrRunFiles.
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
	err = t.opt.Save(st)
	switch {
	case err == nil:
		t.saveErr = nil
	case t.saveErr == nil && t.ctx.Err() == nil:
		t.saveErr = err // the previous state stands; try again at the next checkpoint
	default:
		return fmt.Errorf("%w: saving its state failed twice in a row: %w", ErrRunFiles, err)
	}
	return nil
}

// resume puts the trainer where state st stopped.
func (t *trainer) resume(st *RunState) error {
	if st.Hash != ConfigHash(t.cfg) {
		return fmt.Errorf("the saved state is of another config (hash %s, this run's %s)", st.Hash, ConfigHash(t.cfg))
	}
	if st.Engine != t.engine.Name() || st.DType != t.cfg.DType {
		return fmt.Errorf("the saved state ran on %s/%s, this run on %s/%s: other engines round differently", st.Engine, st.DType, t.engine.Name(), t.cfg.DType)
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
