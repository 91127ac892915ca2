package uniform

// SupBytes bounds the memory, beyond the two networks, that the true sup
// of a student and a teacher with these layer sizes takes: in 1-D the
// exact walk's points × widest layer (three float64 matrices, at about
// two points per hidden unit of either network, at most MaxPieceBytes);
// in more dimensions the bracket search's boxes (at most queueCap, each
// two corners, its known unit statuses and its heap entry, the heap's
// array doubled as it grows), the difference network and the bounder's
// matrices.
func SupBytes(student, teacher []int) float64 {
	hidden, widest := 0, 1
	for _, s := range [][]int{student, teacher} {
		for i, w := range s {
			widest = max(widest, w)
			if i > 0 && i < len(s)-1 {
				hidden += w
			}
		}
	}
	if len(student) == 0 || student[0] == 1 {
		points := float64(2 + 2*hidden)
		return min(3*8*points*float64(widest), MaxPieceBytes)
	}
	d := float64(student[0])
	const entry = 80 // a box: three slice headers and its bound
	// The difference network's hidden units: both networks' side by
	// side, and two a layer where the shallower one is deepened.
	status := (hidden + 2*(len(student)+len(teacher)) + 3) / 4
	boxes := float64(queueCap(status)) * (2*entry + 2*(8*d+16) + float64(status))
	params := 0.0
	for _, s := range [][]int{student, teacher} {
		for i := 0; i+1 < len(s); i++ {
			params += float64(s[i]*s[i+1] + s[i+1])
		}
	}
	w := float64(widest)
	// A batch: six matrices of the difference network's linear functions
	// (2·widest units × 2·batchBoxes boxes × (d+1)), CROWN's rows and their
	// product (2·crownRows), the per-box bounds.
	batch := 6*8*(2*w)*2*batchBoxes*(d+1) + 2*8*float64(crownRows) + 2*8*float64(len(student)+len(teacher))*(2*w)*2*batchBoxes
	return boxes + 2*8*params + 4*8*w*w + batch
}
