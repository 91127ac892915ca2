package results

import (
	"iter"
	"sort"
	"strconv"
	"strings"
)

// Indices is a set of run indices kept as ranges of consecutive ones: a
// grid's finished, failed or missing runs take memory by how scattered
// they are, not by how many (the 10⁷ missing runs of a new grid are one
// range). Add indices in ascending order.
type Indices struct {
	r [][2]int // [first, last], ascending, not touching
	n int
}

// IndicesOf is the set of idx (any order, repeats dropped).
func IndicesOf(idx []int) Indices {
	s := append([]int(nil), idx...)
	sort.Ints(s)
	var x Indices
	for _, i := range s {
		x.Add(i)
	}
	return x
}

// Add puts i in the set: at the end in O(1) (the ascending walk of a
// grid), elsewhere by a search and an insertion.
func (x *Indices) Add(i int) {
	k := len(x.r)
	if k == 0 || i > x.r[k-1][1] {
		if k > 0 && i == x.r[k-1][1]+1 {
			x.r[k-1][1] = i
		} else {
			x.r = append(x.r, [2]int{i, i})
		}
		x.n++
		return
	}
	// The first range that ends at i-1 or later: i joins it, the one
	// before nothing.
	k = sort.Search(len(x.r), func(j int) bool { return x.r[j][1] >= i-1 })
	r := &x.r[k]
	switch {
	case i >= r[0] && i <= r[1]:
		return // already in
	case i == r[1]+1: // extends r upwards; may meet the next
		r[1] = i
		if k+1 < len(x.r) && x.r[k+1][0] == i+1 {
			r[1] = x.r[k+1][1]
			x.r = append(x.r[:k+1], x.r[k+2:]...)
		}
	case i == r[0]-1:
		r[0] = i
	default: // a gap before r
		x.r = append(x.r, [2]int{})
		copy(x.r[k+1:], x.r[k:])
		x.r[k] = [2]int{i, i}
	}
	x.n++
}

// Len is the number of indices.
func (x Indices) Len() int { return x.n }

// All yields the indices in ascending order.
func (x Indices) All() iter.Seq[int] {
	return func(yield func(int) bool) {
		for _, r := range x.r {
			for i := r[0]; i <= r[1]; i++ {
				if !yield(i) {
					return
				}
			}
		}
	}
}

// Spec writes the set as a Slurm --array list: "3,17-20,1004".
func (x Indices) Spec() string {
	var b strings.Builder
	for k, r := range x.r {
		if k > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(r[0]))
		if r[1] > r[0] {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(r[1]))
		}
	}
	return b.String()
}

// Blocks splits the set into blocks of block indices (a Slurm array's
// indices stay below MaxArraySize): per block its offset and the --array
// spec of the indices relative to it.
func (x Indices) Blocks(block int) (offsets []int, specs []string) {
	var cur Indices
	off := -1
	flush := func() {
		if cur.n > 0 {
			offsets, specs = append(offsets, off), append(specs, cur.Spec())
		}
		cur = Indices{}
	}
	for _, r := range x.r {
		for lo := r[0]; lo <= r[1]; {
			if o := lo / block * block; o != off {
				flush()
				off = o
			}
			hi := min(r[1], off+block-1)
			cur.r = append(cur.r, [2]int{lo - off, hi - off})
			cur.n += hi - lo + 1
			lo = hi + 1
		}
	}
	flush()
	return offsets, specs
}

// ArraySpec writes indices as a Slurm --array list: "3,17-20,1004".
func ArraySpec(idx []int) string { return IndicesOf(idx).Spec() }

// ArrayBlocks is IndicesOf(idx).Blocks(block).
func ArrayBlocks(idx []int, block int) (offsets []int, specs []string) {
	return IndicesOf(idx).Blocks(block)
}
