package gan_test

import (
	"fmt"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/gan"
	"github.com/minmaxgan/minmax/optim"
	"github.com/minmaxgan/minmax/tensor"
)

// Play the seed's game on a 1-D Gaussian: D steps on eq. (1), G on eq. (2).
// (package recipe builds games like this one from a config.yaml.)
func ExampleNewGame() {
	rng := tensor.NewRNG(1)
	mlp, _ := arch.Lookup("mlp")
	opts := &arch.MLPOptions{GHidden: []int{32}, DHidden: []int{32}, GActivation: "relu", DActivation: "relu"}
	g, d, err := mlp.Build(opts, 8, arch.PointData(1), rng)
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := dist.Parse("N(2, 0.5)")
	adam := gan.Adam{LR: 1e-3, Beta1: 0.5, Beta2: 0.999}
	game, err := gan.NewGame(gan.Config{Loss: gan.Losses["minimax"], Batch: 64, Latent: 8, DSteps: 1,
		G: adam, D: adam, Steps: 300, Schedule: optim.Linear}, g, d, &gan.PointSampler{D: p}, rng)
	if err != nil {
		fmt.Println(err)
		return
	}
	var st gan.Stats
	for i := 0; i < 300; i++ {
		if st, err = game.Step(); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Printf("step %d, loss %s, V_D finite: %v\n", st.Step, game.Config().Loss.Name, st.LossD > 0 && st.LossD < 10)
	// Output: step 300, loss minimax, V_D finite: true
}
