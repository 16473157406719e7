package run_test

import (
	"context"
	"fmt"
	"os"

	"github.com/minmaxgan/minmax/gan"
	"github.com/minmaxgan/minmax/run"
)

// A short run on disk, then its generator reloaded for sampling.
func Example() {
	dir, _ := os.MkdirTemp("", "minmax-run")
	defer os.RemoveAll(dir)
	cfg, _ := gan.Preset("ring8")
	cfg.Steps, cfg.EvalEvery, cfg.JSDEvery = 100, 50, 0
	r, err := run.New(cfg, dir, run.Options{NoPictures: true, JSDSteps: -1})
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := r.Train(context.Background())
	r.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("evaluated at step", e.Step, "on", e.Coverage.Samples, "samples of", e.Coverage.ModesTotal, "modes")
	back, err := run.LoadForSampling(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	pts, _ := back.Generate(5, 1)
	fmt.Println("reloaded at step", back.Game.Trainer.StepsDone(), "and drew", len(pts)/2, "points")
	// Output:
	// evaluated at step 100 on 2500 samples of 8 modes
	// reloaded at step 100 and drew 5 points
}
