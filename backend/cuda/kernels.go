package cuda

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/backend/cuda/kernels"
)

// ptx is the kernels' PTX text (kernels/kernels.ptx).
var ptx = kernels.PTX

// kernel names one of the kernels of kernels.cu, without its type suffix.
type kernel int

const (
	kBiasAct kernel = iota
	kReluMask
	kGather
	kMSE
	kAdam
	kErrStats
	kStepSmall
	kStepMulti
	kReduceAdam
	kEvalPair
	numKernels
)

// kernelInfo is what the Go side assumes of a kernel: its name and the
// number of its (8-byte) parameters.
var kernelInfo = [numKernels]struct {
	name   string
	params int
}{
	kBiasAct:    {"bias_act", 5},
	kReluMask:   {"relu_mask", 3},
	kGather:     {"gather", 8},
	kMSE:        {"mse", 8},
	kAdam:       {"adam", 11},
	kErrStats:   {"err_stats", 4},
	kStepSmall:  {"step_small", 28},
	kStepMulti:  {"step_multi", 18},
	kReduceAdam: {"reduce_adam", 17},
	kEvalPair:   {"eval_pair", 10},
}

// suffix is the type suffix of a kernel's name.
func suffix(dt backend.DType) string {
	if dt == backend.Float32 {
		return "f32"
	}
	return "f64"
}

// symbol is the PTX entry name of kernel k for dtype dt.
func (k kernel) symbol(dt backend.DType) string { return kernelInfo[k].name + "_" + suffix(dt) }

// Block sizes the kernels are written for (kernels.cu's MSE_THREADS and
// EVAL_THREADS: their reductions need exactly these) and the default for
// the elementwise ones.
const (
	blockThreads = 256
	mseThreads   = 256
	evalThreads  = 256
	// evalPairW is kernels.cu's EVAL_PAIR_W: the widest layer eval_pair
	// takes.
	evalPairW = 64
	// evalBlocks is the most blocks an err_stats launch uses: its records
	// (4 doubles each) are what comes back of an evaluation chunk.
	evalBlocks = 512
	// maxGrid bounds an elementwise launch; the kernels stride over the
	// rest.
	maxGrid = 1 << 16
)

// gridFor is the number of blocks of threads threads for n elements of
// grid-stride work: one element per thread, at most maxGrid blocks, at
// least one.
func gridFor(n int64, threads int) int {
	g := (n + int64(threads) - 1) / int64(threads)
	return int(max(1, min(g, maxGrid)))
}

// ptxEntry is one kernel as PTX declares it.
type ptxEntry struct {
	name   string
	params []string // PTX types: .u64, .f64, …
}

var (
	entryRE = regexp.MustCompile(`(?s)\.visible\s+\.entry\s+(\w+)\s*\((.*?)\)`)
	paramRE = regexp.MustCompile(`\.param\s+(\.\w+)\s+\w+`)
)

// parseEntries lists the kernel entries of a PTX text.
func parseEntries(text string) map[string]ptxEntry {
	out := map[string]ptxEntry{}
	for _, m := range entryRE.FindAllStringSubmatch(text, -1) {
		e := ptxEntry{name: m[1]}
		for _, p := range paramRE.FindAllStringSubmatch(m[2], -1) {
			e.params = append(e.params, p[1])
		}
		out[e.name] = e
	}
	return out
}

// checkPTX checks that text declares every kernel of the table for both
// dtypes with the expected number of parameters, each 8 bytes wide (cu
// copies 8 bytes per argument).
func checkPTX(text string) error {
	entries := parseEntries(text)
	for k := range numKernels {
		for _, dt := range []backend.DType{backend.Float64, backend.Float32} {
			sym := k.symbol(dt)
			e, ok := entries[sym]
			if !ok {
				return fmt.Errorf("cuda: kernel %s missing from the PTX", sym)
			}
			if len(e.params) != kernelInfo[k].params {
				return fmt.Errorf("cuda: kernel %s has %d parameters, the Go side passes %d", sym, len(e.params), kernelInfo[k].params)
			}
			for i, t := range e.params {
				if !strings.HasSuffix(t, "64") {
					return fmt.Errorf("cuda: kernel %s parameter %d is %s, not 8 bytes", sym, i, t)
				}
			}
		}
	}
	return nil
}
