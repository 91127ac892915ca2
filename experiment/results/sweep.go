package results

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/reluscope/reluscope/experiment"

	"github.com/reluscope/reluscope/internal/osutil"
	"golang.org/x/sync/errgroup"
)

// Record is one finished run of a sweep, one JSON line of a results file.
type Record struct {
	Hash   string `json:"hash"`  // experiment.ConfigHash(experiment.Config)
	Index  int    `json:"index"` // position in the sweep's grid
	Preset string `json:"preset,omitempty"`
	// Variant names the grid the run belongs to: the hash of the preset's
	// base config with the sweep's --set overrides (experiment.Job.Variant). Two
	// variants of one preset (--set width=512 on the same grid) share
	// indices, never results: merge keeps them apart.
	Variant  string                  `json:"variant,omitempty"`
	Config   experiment.Config       `json:"config"`
	History  []experiment.Checkpoint `json:"history"`
	Steps    int64                   `json:"steps"`
	Seconds  float64                 `json:"seconds"`
	Finished time.Time               `json:"finished"`
	Error    string                  `json:"error,omitempty"`
	// Resumed: the run went on from a saved state (stopped part-way
	// before); its numbers are those of a run in one go.
	Resumed bool `json:"resumed,omitempty"`
	// StateNote says why a state file found for the run was not used (of
	// another config; damaged, and moved aside): the run started over.
	StateNote string `json:"state_note,omitempty"`
}

// AppendRecord appends r as one JSON line to path with a single write and
// an fsync, after cutting off a torn last line left by a crash.
func AppendRecord(path string, r Record) error {
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	if err := RepairTail(path); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	return osutil.WriteSyncClose(f, line)
}

// RepairTail makes path end with a newline: a last line a killed process
// left half-written is cut off, a complete record that only lacks its
// newline gets one. A missing file is fine; a symlink is refused (the file
// is edited in place).
func RepairTail(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file (a symlink?); a results file is edited in place, so it must be one", path)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	size := st.Size()
	if size == 0 {
		return nil
	}
	// Find the last newline, reading backwards in blocks.
	buf := make([]byte, 64<<10)
	end, keep := size, int64(0)
	for end > 0 {
		start := max(0, end-int64(len(buf)))
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && err != io.EOF {
			return err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			keep = start + int64(i) + 1
			break
		}
		end = start
	}
	if keep == size {
		return nil
	}
	if size-keep <= experiment.MaxRecordBytes {
		tail := make([]byte, size-keep)
		if _, err := f.ReadAt(tail, keep); err != nil && err != io.EOF {
			return err
		}
		if completeRecord(tail) {
			_, err := f.WriteAt([]byte{'\n'}, size)
			return err
		}
	}
	return f.Truncate(keep)
}

// check validates a record read from a file: its config, and errors that
// are numbers ≥ 0 (NaN is a diverged run's).
func (r Record) check() error {
	if r.Hash == "" {
		return errors.New("no hash")
	}
	if err := r.Config.Validate(); err != nil {
		return err
	}
	for _, c := range r.History {
		for _, v := range []float64{c.L1, c.L2, c.Linf} {
			if v < 0 || math.IsInf(v, -1) {
				return fmt.Errorf("checkpoint at epoch %d has a negative error %v", c.Epoch, v)
			}
		}
	}
	return nil
}

// completeRecord says whether line is a whole record (a torn one does not
// parse, or lacks its hash).
func completeRecord(line []byte) bool {
	var r Record
	return json.Unmarshal(line, &r) == nil && r.Hash != ""
}

// ReadRecords reads every complete record of path (a torn last line is
// skipped; a whole last record without its newline is kept); a missing
// file has none. A line longer than experiment.MaxRecordBytes is an error.
func ReadRecords(path string) ([]Record, error) {
	f, err := osutil.OpenLimited(path, 1<<40)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Record
	rd := bufio.NewReaderSize(f, 1<<20)
	for ln := 1; ; ln++ {
		var line []byte
		var err error
		for {
			var part []byte
			part, err = rd.ReadSlice('\n')
			line = append(line, part...)
			if len(line) > experiment.MaxRecordBytes {
				return out, fmt.Errorf("%s:%d: a line longer than %d bytes is not a record", path, ln, experiment.MaxRecordBytes)
			}
			if err != bufio.ErrBufferFull {
				break
			}
		}
		whole := len(line) > 0 && line[len(line)-1] == '\n'
		if whole || (err == io.EOF && len(line) > 0 && completeRecord(line)) {
			var r Record
			if jerr := json.Unmarshal(line, &r); jerr != nil {
				return out, fmt.Errorf("%s:%d: %v", path, ln, experiment.Excerpt(jerr.Error(), 200))
			}
			if verr := r.check(); verr != nil {
				return out, fmt.Errorf("%s:%d: not a record reluscope wrote: %v", path, ln, verr)
			}
			out = append(out, r)
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// ReadResults reads records from files and from every *.jsonl file below
// directories (sweeps, shards, saved runs, nested at any depth), in sorted
// order.
func ReadResults(paths ...string) ([]Record, error) {
	var out []Record
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		files := []string{p}
		if st.IsDir() {
			files = nil
			err := filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !d.IsDir() && strings.HasSuffix(d.Name(), ".jsonl") && d.Type().IsRegular() {
					files = append(files, path)
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
			sort.Strings(files)
		}
		for _, f := range files {
			rs, err := ReadRecords(f)
			if err != nil {
				return nil, err
			}
			out = append(out, rs...)
		}
	}
	return out, nil
}

// Dedup keeps one record of each hash, in the order of their first
// appearance: a finished run rather than a failed one, else the first.
func Dedup(rs []Record) []Record {
	out, _ := Merge(rs)
	return out
}

// Merge is Dedup that also counts the conflicts: hashes whose records
// disagree (a failed and a finished copy, or two different results).
func Merge(rs []Record) (out []Record, conflicts int) {
	at := map[string]int{}
	for _, r := range rs {
		i, seen := at[r.Hash]
		if !seen {
			at[r.Hash] = len(out)
			out = append(out, r)
			continue
		}
		if !sameResult(out[i], r) {
			conflicts++
		}
		if out[i].Error != "" && r.Error == "" {
			out[i] = r // the finished copy wins
		}
	}
	return out, conflicts
}

// sameResult says two records of one run agree: both failed alike or both
// finished with the same numbers at every checkpoint (timings aside; NaN
// equals NaN).
func sameResult(a, b Record) bool {
	if a.Error != b.Error || len(a.History) != len(b.History) {
		return false
	}
	same := func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) }
	for k, c := range a.History {
		d := b.History[k]
		if c.Epoch != d.Epoch || !same(c.LR, d.LR) || !same(c.TrainLoss, d.TrainLoss) || !same(c.L1, d.L1) || !same(c.L2, d.L2) || !same(c.Linf, d.Linf) {
			return false
		}
		if (c.Bracket == nil) != (d.Bracket == nil) || (c.Bracket != nil && (!same(c.Lower, d.Lower) || !same(c.Upper, d.Upper))) {
			return false
		}
	}
	return true
}

// RunJob runs one job and returns its record (a failed run is a record
// with its error). Cancelled, it returns ctx's error and no record. With a
// state path, a run stopped part-way saves its state there (at every
// checkpoint and when ctx ends) and the next RunJob of the job goes on
// from it, ending with exactly the bits of an unstopped run; the state is
// removed once the run has finished. A state it cannot use is named in the
// record's StateNote (a damaged one moved aside: experiment.OpenState). A failure to
// write the run's own files is returned (experiment.ErrRunFiles), not recorded.
//
// opened, when not nil, is told before training what the state path held:
// the state the run goes on from (or nil) and the note.
func RunJob(ctx context.Context, j experiment.Job, preset string, threads int, statePath string, opened func(st *experiment.RunState, note string)) (Record, error) {
	t0 := time.Now()
	opt := experiment.Options{Threads: threads}
	note := ""
	if statePath != "" {
		var err error
		if opt.Resume, note, err = experiment.OpenState(statePath, j.Config); err != nil {
			return Record{}, err
		}
		if opened != nil {
			opened(opt.Resume, note)
		}
		opt.Save = func(st *experiment.RunState) error { return experiment.SaveState(statePath, st) }
	}
	res, err := experiment.Run(ctx, j.Config, opt, func(experiment.Event) error { return nil })
	if err != nil && ctx.Err() != nil {
		return Record{}, ctx.Err()
	}
	if errors.Is(err, experiment.ErrRunFiles) {
		return Record{}, err // the disk failed, not the run: no record
	}
	rec := Record{Hash: experiment.ConfigHash(j.Config), Index: j.Index, Preset: preset, Variant: j.Variant, Config: j.Config,
		Seconds: time.Since(t0).Seconds(), Finished: time.Now().UTC(), Resumed: opt.Resume != nil, StateNote: note}
	if res != nil {
		rec.History, rec.Steps = res.History, res.Steps
		if opt.Resume != nil {
			rec.Seconds = res.Elapsed.Seconds() // the attempts' time together
		}
	}
	if err != nil {
		rec.Error = err.Error()
	}
	if statePath != "" {
		os.Remove(statePath) // finished or failed: nothing to go on from
	}
	return rec, nil
}

// RunPool runs jobs on workers goroutines, each computing on its share of
// the cores, and calls done (serialized) with each record as it finishes.
// Jobs are taken from the sequence as workers free up (a grid is walked,
// not listed).
// It stops early when ctx ends or done fails, returning that error; every
// goroutine has ended when it returns. statePath, when not nil, names each
// job's state file (see RunJob).
func RunPool(ctx context.Context, jobs iter.Seq[experiment.Job], workers int, preset string, statePath func(experiment.Job) string, done func(Record) error) error {
	workers = max(1, workers)
	threads := max(1, runtime.GOMAXPROCS(0)/workers)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	var mu sync.Mutex
	for j := range jobs {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			path := ""
			if statePath != nil {
				path = statePath(j)
			}
			rec, err := RunJob(gctx, j, preset, threads, path, nil)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			return done(rec)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// Pending are the indices of the jobs whose config hash is not in done.
//
// With retryFailed a job whose records all failed is pending too; failed
// counts those jobs either way.
func Pending(jobs iter.Seq[experiment.Job], done []Record, retryFailed bool) (todo Indices, failed int) {
	rs := recordSets(done)
	for j := range jobs {
		if !rs.configs[j.Config] {
			todo.Add(j.Index) // no record of its config: no hash needed
			continue
		}
		h := experiment.ConfigHash(j.Config)
		switch {
		case rs.finished[h]:
		case rs.tried[h]:
			failed++
			if retryFailed {
				todo.Add(j.Index)
			}
		default:
			todo.Add(j.Index)
		}
	}
	return todo, failed
}

// recordSet is what a run's records are matched by: the config hashes of
// those that finished (a record without an error) and of all, and their
// configs. Two runs of one hash have one config, so a run whose config no
// record has is neither, without hashing it (1.4 µs a run: 14 s of a
// 10⁷-run grid).
type recordSet struct {
	finished, tried map[string]bool
	configs         map[experiment.Config]bool
}

func recordSets(recs []Record) recordSet {
	rs := recordSet{finished: map[string]bool{}, tried: map[string]bool{}, configs: map[experiment.Config]bool{}}
	for _, r := range recs {
		rs.tried[r.Hash] = true
		rs.configs[r.Config] = true
		if r.Error == "" {
			rs.finished[r.Hash] = true
		}
	}
	return rs
}

// WriteRecordsAtomic writes records as JSON lines to path atomically.
func WriteRecordsAtomic(path string, rs []Record) error {
	var b strings.Builder
	for _, r := range rs {
		line, err := json.Marshal(r)
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return osutil.WriteFileAtomic(path, []byte(b.String()))
}
