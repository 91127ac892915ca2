package uniform

// What a box's bounds show of its hidden units is kept with the box: a
// unit stable on a box is stable on every box inside it, whatever that
// box's own (looser or tighter) bounds say, so a child box starts from
// its parent's statuses, and CROWN skips the units they settle.

// A hidden unit's status on a box, two bits a unit in a status string
// (units of all hidden layers in order, four to a byte).
const (
	unknown  = 0
	active   = 1 // its pre-activation is ≥ 0 on the box
	inactive = 2 // ≤ 0
)

// statusLen is the length of a status string for c.
func (c chain) statusLen() int {
	n := 0
	for _, ly := range c[:len(c)-1] {
		n += ly.out
	}
	return (n + 3) / 4
}

// know intersects hidden layer k's bounds of each box with its known
// status, then records in it what the bounds show.
func (b *bounder) know(k, B int, known [][]byte) {
	if known == nil {
		return
	}
	n := b.c[k].out
	off := b.statusOff[k]
	lo, hi := b.lo[k], b.hi[k]
	for bx := 0; bx < B; bx++ {
		st := known[bx]
		if st == nil {
			continue
		}
		for o := 0; o < n; o++ {
			u := off + o
			at := bx*n + o
			switch st[u/4] >> (2 * (u % 4)) & 3 {
			case active:
				lo[at] = max(lo[at], 0)
				hi[at] = max(hi[at], 0)
			case inactive:
				hi[at] = min(hi[at], 0)
				lo[at] = min(lo[at], 0)
			default:
				if lo[at] >= 0 {
					st[u/4] |= active << (2 * (u % 4))
				} else if hi[at] <= 0 {
					st[u/4] |= inactive << (2 * (u % 4))
				}
			}
		}
	}
}
