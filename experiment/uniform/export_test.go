package uniform

import (
	"testing"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/backend/gemm"
)

// Attack is attack for the package's external tests.
func Attack(t *testing.T, student, teacher *backend.Net, b Bracket, seed uint64) float64 {
	return attack(t, student, teacher, b, seed)
}

// SecondPass reports how the bracket search of the pair bounds its boxes:
// wide (CROWN not affordable on every box) and, if so, whether the boxes
// the symbolic pass leaves open get CROWN (crownPays, at the given points).
func SecondPass(student, teacher *backend.Net, at []float64) (wide, crown bool, gain float64) {
	pool := gemm.NewPool[float64](2)
	defer pool.Close()
	h := difference(fromNet(student), fromNet(teacher))
	bd := newBounder(h, pool)
	if bd.crownBudget > 0 {
		return false, false, 0
	}
	crown, gain = bd.crownPays(at, newEvaluator(h, pool))
	return true, crown, gain
}
