package run_test

import (
	"context"
	"fmt"
	"os"

	"github.com/minmaxgan/minmax/generator"
	"github.com/minmaxgan/minmax/recipe"
	"github.com/minmaxgan/minmax/run"
)

// A short run on disk, then its generator file loaded alone for sampling.
func Example() {
	dir, _ := os.MkdirTemp("", "minmax-run")
	defer os.RemoveAll(dir)
	rec, _ := recipe.Preset("ring8")
	rec.Optim.Steps, rec.Run.EvalEvery, rec.Run.JSDEvery = 100, 50, 0
	r, err := run.New(rec, dir, run.Options{NoPictures: true, JSDSteps: -1})
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
	g, err := run.OpenGenerator(dir, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	pts, _, _ := g.Sample(5, generator.Options{Seed: 1, Class: -1})
	fmt.Println("its generator file: step", g.Info.Step, "of", g.Info.Arch, "on", g.Info.Source, "drew", len(pts)/2, "points")
	// Output:
	// evaluated at step 100 on 2500 samples of 8 modes
	// its generator file: step 100 of mlp on ring(8, r=2, sd=0.02) drew 5 points
}
