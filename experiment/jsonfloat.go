package experiment

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/reluscope/reluscope/experiment/uniform"
)

// Non-finite numbers in JSON. A checkpoint's errors can be NaN (a run on a
// data file has no teacher to measure against) or ±Inf (a teacher whose
// outputs overflow), which JSON has no number for: reluscope writes them as
// the strings "NaN", "+Inf" and "-Inf", in results files, --json events and
// saved runs alike, and reads them back (report, merge, resume). Finite
// numbers are written exactly as encoding/json writes a float64.

// jsonFloat is a float64 that JSON can carry when it is not finite.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Inf"`), nil
	}
	return json.Marshal(v)
}

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"NaN"`:
		*f = jsonFloat(math.NaN())
		return nil
	case `"+Inf"`, `"Inf"`:
		*f = jsonFloat(math.Inf(1))
		return nil
	case `"-Inf"`:
		*f = jsonFloat(math.Inf(-1))
		return nil
	case "null":
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("%s is not a number (nor \"NaN\", \"+Inf\", \"-Inf\")", Excerpt(string(b), 24))
	}
	*f = jsonFloat(v)
	return nil
}

// checkpointJSON is Checkpoint as JSON: the same fields in the same order,
// its floats able to be non-finite (TestCheckpointJSONFields holds the two
// together).
type checkpointJSON struct {
	Epoch     int         `json:"epoch"`
	LR        jsonFloat   `json:"lr"`
	TrainLoss jsonFloat   `json:"train_loss,omitempty"`
	L1        jsonFloat   `json:"l1"`
	L2        jsonFloat   `json:"l2"`
	Linf      jsonFloat   `json:"linf"`
	ArgMax    []jsonFloat `json:"argmax"`
	N         int         `json:"n"`
	*bracketJSON
	EvalSeconds jsonFloat `json:"eval_seconds"`
}

type bracketJSON struct {
	Lower   jsonFloat   `json:"sup_lower"`
	Upper   jsonFloat   `json:"sup_upper"`
	At      []jsonFloat `json:"sup_at"`
	Method  string      `json:"sup_method"`
	Closed  bool        `json:"sup_closed"`
	Seconds jsonFloat   `json:"sup_seconds"`
	Boxes   int         `json:"sup_boxes,omitempty"`
	Pieces  int         `json:"sup_pieces,omitempty"`
	Note    string      `json:"sup_note,omitempty"`
}

// MarshalJSON writes the checkpoint with its non-finite values as strings.
func (c Checkpoint) MarshalJSON() ([]byte, error) {
	j := checkpointJSON{Epoch: c.Epoch, LR: jsonFloat(c.LR), TrainLoss: jsonFloat(c.TrainLoss), L1: jsonFloat(c.L1), L2: jsonFloat(c.L2),
		Linf: jsonFloat(c.Linf), ArgMax: floats[jsonFloat](c.ArgMax), N: c.N, EvalSeconds: jsonFloat(c.EvalSeconds)}
	if b := c.Bracket; b != nil {
		j.bracketJSON = &bracketJSON{Lower: jsonFloat(b.Lower), Upper: jsonFloat(b.Upper), At: floats[jsonFloat](b.At), Method: b.Method, Closed: b.Closed,
			Seconds: jsonFloat(b.Seconds), Boxes: b.Boxes, Pieces: b.Pieces, Note: b.Note}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes (and plain numbers).
func (c *Checkpoint) UnmarshalJSON(data []byte) error {
	// The bracket's fields are read apart (json cannot allocate an
	// embedded pointer to an unexported type); a sup_method says there is
	// one.
	var j struct {
		checkpointJSON
		bracketJSON
		Method *string `json:"sup_method"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*c = Checkpoint{Epoch: j.Epoch, LR: float64(j.LR), TrainLoss: float64(j.TrainLoss), EvalSeconds: float64(j.EvalSeconds),
		Metrics: Metrics{L1: float64(j.L1), L2: float64(j.L2), Linf: float64(j.Linf), ArgMax: floats[float64](j.ArgMax), N: j.N}}
	if j.Method != nil {
		b := j.bracketJSON
		c.Bracket = &uniform.Bracket{Lower: float64(b.Lower), Upper: float64(b.Upper), At: floats[float64](b.At), Method: *j.Method, Closed: b.Closed,
			Seconds: float64(b.Seconds), Boxes: b.Boxes, Pieces: b.Pieces, Note: b.Note}
	}
	return nil
}

// floats converts a point between float64 and jsonFloat (nil stays nil).
func floats[To, From ~float64](v []From) []To {
	if v == nil {
		return nil
	}
	out := make([]To, len(v))
	for i, x := range v {
		out[i] = To(x)
	}
	return out
}
