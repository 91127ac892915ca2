package cuda

import (
	"runtime"
	"sync"
	"unsafe"

	"github.com/reluscope/reluscope/backend"
)

// stager feeds Compare's pieces to the device through two slots of
// page-locked host memory: while the device copies and evaluates piece i
// from one slot, the host stages piece i+1 (converts and scales its points)
// into the other, and the pieces' records come back by asynchronous copies
// too, so that the host waits only before it reuses a slot, for the piece
// two back. Records are merged in the order of the pieces, as one piece at
// a time would merge them: the same numbers. Without page-locked memory
// (hostAlloc failing) it stages into Go memory with the synchronous copies.
type stager[T float] struct {
	x     executor
	elem  int64
	rows  int // capacity of a slot's points, in rows of d
	d     int
	slots [2]slot
	next  int // the slot the next piece takes
	// The fallback: Go memory and synchronous copies.
	goMem bool
	hx    []T
	hrec  []float64
}

// slot is one buffer of points and one of records, the event after the
// last piece through it, and that piece (k rows from lo over blocks
// blocks) while its records are still to be merged.
type slot struct {
	pts, rec      unsafe.Pointer
	ev            event
	hasEv, busy   bool
	lo, k, blocks int
}

// reserve makes room for pieces of up to rows rows of d inputs (only ever
// growing; the records' space is fixed: evalBlocks records a piece).
func (s *stager[T]) reserve(x executor, rows, d int) error {
	if s.elem == 0 {
		var t T
		s.elem = int64(unsafe.Sizeof(t))
	}
	if s.goMem || (s.rows >= rows && s.d == d) {
		return nil
	}
	s.x, s.d = x, d
	if err := s.drain(nil); err != nil {
		return err
	}
	s.release()
	for i := range s.slots {
		sl := &s.slots[i]
		var err error
		if sl.pts, err = x.hostAlloc(int64(rows) * int64(d) * s.elem); err == nil {
			sl.rec, err = x.hostAlloc(4 * evalBlocks * 8)
		}
		if err == nil && !sl.hasEv {
			sl.ev, err = x.newEvent()
			sl.hasEv = err == nil
		}
		if err != nil {
			s.release()
			s.goMem = true
			return nil
		}
	}
	s.rows = rows
	return nil
}

// release frees the slots' host memory (after drain).
func (s *stager[T]) release() {
	for i := range s.slots {
		sl := &s.slots[i]
		if sl.pts != nil {
			s.x.hostFree(sl.pts)
		}
		if sl.rec != nil {
			s.x.hostFree(sl.rec)
		}
		sl.pts, sl.rec = nil, nil
	}
	s.rows = 0
}

// close frees everything (the work in flight first).
func (s *stager[T]) close() {
	if s.x == nil {
		return
	}
	s.drain(nil)
	s.release()
	for i := range s.slots {
		if s.slots[i].hasEv {
			s.x.freeEvent(s.slots[i].ev)
			s.slots[i].hasEv = false
		}
	}
}

// put stages the k = len(x)/d rows of x, times scale, and copies them to
// dst; the piece's kernels come next, then records. st receives the
// records of the piece that used this slot before.
func (s *stager[T]) put(dst ptr, x []float64, scale T, st *backend.ErrorStats) error {
	if s.goMem {
		s.hx = stageInputs(s.hx, x, scale)
		return s.x.upload(dst, s.hx)
	}
	sl := &s.slots[s.next]
	if err := s.merge(sl, st); err != nil {
		return err
	}
	stageParallel(unsafe.Slice((*T)(sl.pts), len(x)), x, scale)
	return s.x.uploadAsync(dst, sl.pts, int64(len(x))*s.elem)
}

// stageParallel is stageInputs into dst (len(x) long) on all cores for a
// large piece: a run's Compare of 2^19 values takes 295 µs on one core of
// the 2-core CPU machine (195 µs on both; BenchmarkStage), 9 ms for 2^24
// points, a third of the width-32 evaluation goal — a device evaluating
// faster would wait for the host. Elementwise: the same values whatever
// the split.
func stageParallel[T float](dst []T, x []float64, scale T) {
	const least = 1 << 15 // values a goroutine takes at the least
	workers := min(runtime.GOMAXPROCS(0), len(x)/least)
	if workers <= 1 {
		stageInputs(dst[:0], x, scale)
		return
	}
	var wg sync.WaitGroup
	per := (len(x) + workers - 1) / workers
	for lo := 0; lo < len(x); lo += per {
		hi := min(len(x), lo+per)
		wg.Add(1)
		go func() {
			defer wg.Done()
			stageInputs(dst[lo:lo], x[lo:hi], scale)
		}()
	}
	wg.Wait()
}

// records copies back the records of the piece just put (k rows from lo,
// blocks records at src) and moves on to the other slot.
func (s *stager[T]) records(src ptr, lo, k, blocks int, st *backend.ErrorStats) error {
	if s.goMem {
		if cap(s.hrec) < 4*evalBlocks {
			s.hrec = make([]float64, 4*evalBlocks)
		}
		if err := s.x.download(s.hrec[:4*blocks], src); err != nil {
			return err
		}
		*st = mergeStats(*st, combineRecords(s.hrec[:4*blocks], k), lo)
		return nil
	}
	sl := &s.slots[s.next]
	if err := s.x.downloadAsync(sl.rec, src, int64(4*blocks*8)); err != nil {
		return err
	}
	if err := s.x.record(sl.ev); err != nil {
		return err
	}
	sl.busy, sl.lo, sl.k, sl.blocks = true, lo, k, blocks
	s.next = 1 - s.next
	return nil
}

// merge waits for the slot's piece, if one is in flight, and adds its
// records to st.
func (s *stager[T]) merge(sl *slot, st *backend.ErrorStats) error {
	if !sl.busy {
		return nil
	}
	sl.busy = false
	if err := s.x.wait(sl.ev); err != nil {
		return err
	}
	rec := unsafe.Slice((*float64)(sl.rec), 4*sl.blocks)
	*st = mergeStats(*st, combineRecords(rec, sl.k), sl.lo)
	return nil
}

// drain waits for the pieces in flight and merges their records into st,
// the older first (st nil: the records are dropped, after an error).
func (s *stager[T]) drain(st *backend.ErrorStats) error {
	var sink backend.ErrorStats
	if st == nil {
		st = &sink
	}
	var first error
	for range s.slots {
		if err := s.merge(&s.slots[s.next], st); err != nil && first == nil {
			first = err
		}
		s.next = 1 - s.next
	}
	return first
}
