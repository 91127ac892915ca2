package experiment

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// GridStatus is where a grid's runs stand in a results folder: each index
// finished (a record without an error), failed (only failed records), in
// progress (a saved state: stopped part-way, or running now) or missing.
type GridStatus struct {
	Finished, Failed, InProgress, Missing []int
}

// Status reads the records and states under dir for jobs.
func Status(dir string, jobs []Job) (GridStatus, error) {
	var recs []Record
	if _, err := os.Stat(dir); err == nil {
		if recs, err = ReadResults(dir); err != nil {
			return GridStatus{}, err
		}
	} else if !os.IsNotExist(err) {
		return GridStatus{}, err
	}
	ok, tried := map[string]bool{}, map[string]bool{}
	for _, r := range recs {
		tried[r.Hash] = true
		if r.Error == "" {
			ok[r.Hash] = true
		}
	}
	var st GridStatus
	for _, j := range jobs {
		h := ConfigHash(j.Config)
		switch {
		case ok[h]:
			st.Finished = append(st.Finished, j.Index)
		case fileExists(filepath.Join(dir, StateName(j.Index, h))):
			st.InProgress = append(st.InProgress, j.Index)
		case tried[h]:
			st.Failed = append(st.Failed, j.Index)
		default:
			st.Missing = append(st.Missing, j.Index)
		}
	}
	return st, nil
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// ArraySpec writes indices as a Slurm --array list: "3,17-20,1004".
func ArraySpec(idx []int) string {
	idx = append([]int(nil), idx...)
	sort.Ints(idx)
	var parts []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", idx[i], idx[j]))
		} else {
			parts = append(parts, fmt.Sprint(idx[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// ArrayBlocks splits indices into blocks of block runs (a Slurm array's
// indices stay below MaxArraySize): per block its offset and the --array
// spec of the indices relative to it.
func ArrayBlocks(idx []int, block int) (offsets []int, specs []string) {
	by := map[int][]int{}
	for _, i := range idx {
		by[i/block*block] = append(by[i/block*block], i-i/block*block)
	}
	for k := range by {
		offsets = append(offsets, k)
	}
	sort.Ints(offsets)
	for _, k := range offsets {
		specs = append(specs, ArraySpec(by[k]))
	}
	return offsets, specs
}
