package gan

import (
	"fmt"
	"strconv"

	"github.com/minmaxgan/minmax/imgdata"
	"github.com/minmaxgan/minmax/tensor"
)

// ImageSampler draws batches of real images from a data set the way an
// epoch-based trainer does (and as the PyTorch peer of ../shared/bench):
// the images are visited in a random order, a fresh permutation every
// epoch, so each image is seen once per epoch. Images come out channel-last
// (H, W, C) in [-1, 1], one per row.
//
// The permutation of an epoch is drawn from its own generator, seeded by
// one draw from the training RNG at the epoch's start; Seed and Pos are
// all a checkpoint needs to continue exactly.
type ImageSampler struct {
	Set *imgdata.Set
	// Epoch is the number of completed passes; Pos the next index into the
	// current permutation; Seed the current permutation's seed.
	Epoch, Pos int
	Seed       uint64

	perm  []int
	idx   []int
	chw   []float32
	valid bool
}

// NewImageSampler checks the set and returns a sampler at its start.
func NewImageSampler(s *imgdata.Set) (*ImageSampler, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if s.N < 1 {
		return nil, fmt.Errorf("data set %s has no images", s.Source)
	}
	return &ImageSampler{Set: s, Pos: -1}, nil
}

// Dim is the number of values in one image.
func (s *ImageSampler) Dim() int { return s.Set.ImageLen() }

// State returns the sampler's position: "epoch", "pos" and "seed".
func (s *ImageSampler) State() map[string]string {
	return map[string]string{"epoch": strconv.Itoa(s.Epoch), "pos": strconv.Itoa(s.Pos), "seed": strconv.FormatUint(s.Seed, 10)}
}

// Restore sets the sampler's position from State's metadata.
func (s *ImageSampler) Restore(meta map[string]string) error {
	epoch, err1 := strconv.Atoi(meta["epoch"])
	pos, err2 := strconv.Atoi(meta["pos"])
	seed, err3 := strconv.ParseUint(meta["seed"], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return fmt.Errorf("metadata data.epoch, data.pos, data.seed (%q, %q, %q) do not give the data sampler's position", meta["epoch"], meta["pos"], meta["seed"])
	}
	if pos < -1 || pos > s.Set.N || epoch < 0 {
		return fmt.Errorf("image sampler position %d (epoch %d) is outside a data set of %d images", pos, epoch, s.Set.N)
	}
	s.Epoch, s.Pos, s.Seed, s.valid = epoch, pos, seed, false
	return nil
}

func (s *ImageSampler) permute() {
	if len(s.perm) != s.Set.N {
		s.perm = make([]int, s.Set.N)
	}
	for i := range s.perm {
		s.perm[i] = i
	}
	r := tensor.NewRNG(s.Seed)
	for i := len(s.perm) - 1; i > 0; i-- { // Fisher–Yates
		j := r.IntN(i + 1)
		s.perm[i], s.perm[j] = s.perm[j], s.perm[i]
	}
	s.valid = true
}

// Sample writes n images into out (n×Dim), and their classes into labels
// when labels is not nil (the set must have labels then). A batch never
// straddles two epochs: when fewer than n images are left, a new epoch
// starts (as PyTorch's loader with drop_last does).
func (s *ImageSampler) Sample(rng *tensor.RNG, n int, out []float32, labels []int) {
	if s.Pos < 0 || s.Pos+n > s.Set.N {
		if s.Pos >= 0 {
			s.Epoch++
		}
		s.Seed, s.Pos, s.valid = rng.Uint64(), 0, false
	}
	if !s.valid {
		s.permute()
	}
	if cap(s.idx) < n {
		s.idx = make([]int, n)
	}
	idx := s.idx[:n]
	for i := range idx {
		idx[i] = s.perm[(s.Pos+i)%s.Set.N] // n > N: wrap within the epoch
	}
	s.Pos += n
	set := s.Set
	if labels != nil && set.Labels != nil {
		for i, id := range idx {
			labels[i] = set.Labels[id]
		}
	}
	if set.C == 1 {
		set.Batch(idx, out[:n*set.ImageLen()])
		return
	}
	// The set stores channel-planar images; the models take channel-last.
	d := set.ImageLen()
	if cap(s.chw) < n*d {
		s.chw = make([]float32, n*d)
	}
	chw := s.chw[:n*d]
	set.Batch(idx, chw)
	imgdata.CHWToHWC(out[:n*d], chw, n, set.C, set.H, set.W)
}
