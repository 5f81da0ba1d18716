package adminapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/upstatehq/upstate"
)

// reachJSON is how much an incident hurts. The share of requests failing
// is written twice: failing_percent, one figure (null for a range, so no
// reader takes a range for a figure), and failing_percent_min and
// failing_percent_max, set whenever the share is known (equal for one
// figure). A request gives failing_percent as a number or a range
// [min, max], or failing_percent_min with failing_percent_max; both ways
// at once must agree, so a scope read from the API can be sent back.
type reachJSON struct {
	FailingPercent *float64 `json:"failing_percent"`
	FailingMin     *float64 `json:"failing_percent_min"`
	FailingMax     *float64 `json:"failing_percent_max"`
	Regions        []string `json:"regions"`
	Segments       []string `json:"segments"`
}

// reachOf is a scope as the API shows it.
func reachOf(r upstate.Reach) reachJSON {
	out := reachJSON{Regions: orEmpty(r.Regions), Segments: orEmpty(r.Segments)}
	if lo, hi, ok := r.Failing(); ok {
		out.FailingMin, out.FailingMax = &lo, &hi
		if !r.IsRange() {
			out.FailingPercent = &lo
		}
	}
	return out
}

// reach is the scope a request asks for.
func (b *reachJSON) reach() *upstate.Reach {
	r := &upstate.Reach{FailingPercent: b.FailingMin, Regions: b.Regions, Segments: b.Segments}
	if b.FailingMin != nil && b.FailingMax != nil && *b.FailingMax > *b.FailingMin {
		r.FailingMax = b.FailingMax
	}
	return r
}

// UnmarshalJSON reads a request's scope, whichever way it gives the
// share, into FailingMin and FailingMax (and FailingPercent for one
// figure); a share that is no number, no range, out of 0–100 or
// backwards is refused naming the field as it was sent.
func (b *reachJSON) UnmarshalJSON(data []byte) error {
	var in struct {
		FailingPercent json.RawMessage `json:"failing_percent"`
		FailingMin     *float64        `json:"failing_percent_min"`
		FailingMax     *float64        `json:"failing_percent_max"`
		Regions        []string        `json:"regions"`
		Segments       []string        `json:"segments"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields() // as the body around it
	if err := dec.Decode(&in); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return upstate.Errorf(upstate.EINVALID, "field reach.%s: want %s, got %s", typ.Field, typ.Type, typ.Value)
		}
		return err
	}
	*b = reachJSON{Regions: in.Regions, Segments: in.Segments}
	var probs []string
	check := func(name string, v float64) {
		if v < 0 || v > 100 || math.IsNaN(v) {
			probs = append(probs, fmt.Sprintf("reach.%s: %v is not between 0 and 100", name, v))
		}
	}
	var lo, hi *float64 // from failing_percent
	if raw := bytes.TrimSpace(in.FailingPercent); len(raw) > 0 && string(raw) != "null" {
		var one float64
		var two []float64
		switch {
		case json.Unmarshal(raw, &one) == nil:
			check("failing_percent", one)
			lo, hi = &one, &one
		case json.Unmarshal(raw, &two) == nil && len(two) == 2:
			check("failing_percent[0]", two[0])
			check("failing_percent[1]", two[1])
			if two[0] > two[1] {
				probs = append(probs, fmt.Sprintf("reach.failing_percent: the range [%v, %v] is backwards: give [min, max]", two[0], two[1]))
			}
			lo, hi = &two[0], &two[1]
		default:
			probs = append(probs, fmt.Sprintf("reach.failing_percent: want a number or a range [min, max] of two numbers from 0 to 100, got %.40s", raw))
		}
	}
	switch mn, mx := in.FailingMin, in.FailingMax; {
	case mn == nil && mx == nil:
	case mn == nil || mx == nil:
		probs = append(probs, "reach.failing_percent_min and reach.failing_percent_max go together: give both (equal for one figure), or failing_percent")
	default:
		check("failing_percent_min", *mn)
		check("failing_percent_max", *mx)
		if *mn > *mx {
			probs = append(probs, fmt.Sprintf("reach.failing_percent_min: %v is above failing_percent_max %v", *mn, *mx))
		}
		if lo != nil && (*lo != *mn || *hi != *mx) {
			probs = append(probs, "reach.failing_percent disagrees with failing_percent_min and failing_percent_max: give one of them")
		}
		lo, hi = mn, mx
	}
	if len(probs) > 0 {
		return upstate.Errorf(upstate.EINVALID, "%s", strings.Join(probs, "; "))
	}
	if lo != nil {
		b.FailingMin, b.FailingMax = lo, hi
		if *lo == *hi {
			b.FailingPercent = lo
		}
	}
	return nil
}
