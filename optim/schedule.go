package optim

import (
	"fmt"
	"math"
)

// Schedule is a learning-rate schedule over a run of a known number of
// steps.
type Schedule string

// The schedules.
const (
	// Constant keeps the base rate.
	Constant Schedule = "none"
	// Linear decays the rate linearly to 0 at the last step.
	Linear Schedule = "linear"
	// Cosine decays it along half a cosine to 0.
	Cosine Schedule = "cosine"
)

// ParseSchedule reads "none" (or ""), "linear" or "cosine".
func ParseSchedule(s string) (Schedule, error) {
	switch Schedule(s) {
	case Constant, "":
		return Constant, nil
	case Linear, Cosine:
		return Schedule(s), nil
	}
	return Constant, fmt.Errorf("%q is not a schedule; want none, linear or cosine", s)
}

// LR returns the learning rate at step (0-based) of steps for base rate
// base.
func (s Schedule) LR(base float64, step, steps int) float64 {
	switch s {
	case Linear:
		return base * (1 - float64(step)/float64(steps))
	case Cosine:
		return base * 0.5 * (1 + math.Cos(math.Pi*float64(step)/float64(steps)))
	}
	return base
}
