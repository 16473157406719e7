package evaluator

import (
	"errors"
	"fmt"
	"io/fs"
)

// ErrNoEvaluator is matched (errors.Is) by NewJudge's error when there is
// no evaluator file at the path.
var ErrNoEvaluator = errors.New("no evaluator")

// Judge is an evaluator together with the features of the real images
// that samples are scored against: everything needed to score a
// generator's samples of one data set.
type Judge struct {
	Scorer Scorer
	Real   *Real
	// Path is the evaluator's file.
	Path string
}

// NewJudge loads the evaluator that scores images of data from path (""
// for DefaultFor's) and computes the features of up to maxReal of the real
// images of RealSet, chosen with seed. A missing file is an error matching
// ErrNoEvaluator that says how to train one.
func NewJudge(data, path string, maxReal int, seed uint64) (*Judge, error) {
	def, trainedOn := DefaultFor(data)
	if path == "" {
		path = def
	}
	sc, err := ForData(data, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s: train one with: minmax evaluator train --data %s (or give the evaluator's file)", ErrNoEvaluator, path, trainedOn)
	}
	if err != nil {
		return nil, fmt.Errorf("the evaluator for %s: %w", data, err)
	}
	size, channels := sc.Shape()
	set, name, err := RealSet(data, size, channels)
	if err != nil {
		return nil, fmt.Errorf("the real images of %s for the evaluator: %w", data, err)
	}
	real, err := sc.RealFeatures(set, name, maxReal, seed)
	if err != nil {
		return nil, err
	}
	return &Judge{Scorer: sc, Real: real, Path: path}, nil
}

// Score computes every metric of n samples (channel-last, in [-1, 1])
// against the judge's real images; labels (or nil) are the classes the
// samples were asked for (Scores.ConditionalAccuracy).
func (j *Judge) Score(fake []float32, labels []int, n int, seed uint64) (Scores, error) {
	return j.Scorer.Score(j.Real, fake, labels, n, seed)
}
