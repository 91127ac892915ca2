package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/internal/osutil"
)

// SaveRun writes a run to dir (created if needed), each file atomically:
//
//	config.json   the experiment.Config
//	history.csv   one row per checkpoint: epoch, lr, train_loss, l1, l2, linf, argmax
//	epochs.csv    one row per epoch: epoch, train_loss
//	result.json   the config, history, steps, elapsed time and error, if any
//	teacher.json  the teacher network (schema: see experiment.SaveNetwork)
//	student.json  the student network
//	results.jsonl the run as one sweep record, so that report reads it
func SaveRun(dir string, res *experiment.Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cfg, err := json.MarshalIndent(res.Config, "", "  ")
	if err != nil {
		return err
	}
	if err := osutil.WriteFileAtomic(filepath.Join(dir, "config.json"), append(cfg, '\n')); err != nil {
		return err
	}
	if err := osutil.WriteFileAtomic(filepath.Join(dir, "history.csv"), HistoryCSV(res.History)); err != nil {
		return err
	}
	var ep bytes.Buffer
	ep.WriteString("epoch,train_loss\n")
	for i, l := range res.EpochLoss {
		fmt.Fprintf(&ep, "%d,%s\n", i+1, num(l))
	}
	if err := osutil.WriteFileAtomic(filepath.Join(dir, "epochs.csv"), ep.Bytes()); err != nil {
		return err
	}
	rj, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := osutil.WriteFileAtomic(filepath.Join(dir, "result.json"), append(rj, '\n')); err != nil {
		return err
	}
	if res.Teacher != nil {
		if err := experiment.SaveNetwork(filepath.Join(dir, "teacher.json"), "teacher", res.Teacher); err != nil {
			return err
		}
	}
	if res.Student != nil {
		if err := experiment.SaveNetwork(filepath.Join(dir, "student.json"), "student", res.Student); err != nil {
			return err
		}
	}
	rec := Record{Hash: experiment.ConfigHash(res.Config), Preset: "saved", Config: res.Config, History: res.History,
		Steps: res.Steps, Seconds: res.Elapsed.Seconds(), Finished: time.Now().UTC(), Error: res.Error}
	return WriteRecordsAtomic(filepath.Join(dir, "results.jsonl"), []Record{rec})
}

// HistoryCSV formats checkpoints as CSV with a header; argmax coordinates are
// separated by spaces.
func HistoryCSV(h []experiment.Checkpoint) []byte {
	var b bytes.Buffer
	b.WriteString("epoch,lr,train_loss,l1,l2,linf,argmax,eval_points\n")
	for _, c := range h {
		tl := ""
		if c.Epoch > 0 {
			tl = num(c.TrainLoss)
		}
		arg := ""
		for i, v := range c.ArgMax {
			if i > 0 {
				arg += " "
			}
			arg += num(v)
		}
		fmt.Fprintf(&b, "%d,%s,%s,%s,%s,%s,%s,%d\n", c.Epoch, num(c.LR), tl, num(c.L1), num(c.L2), num(c.Linf), arg, c.N)
	}
	return b.Bytes()
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', 10, 64) }
