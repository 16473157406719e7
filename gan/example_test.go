package gan_test

import (
	"fmt"
	"sync"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/cluster"
	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/gan"
	"github.com/minmaxgan/minmax/internal/parallel"
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

// Train one game with two ranks, each computing on half of the global
// batch of 64 (goroutines here, with cluster.Local; processes under
// mpirun, with mpi.Init): the ranks apply the same summed gradients and
// stay identical.
func ExampleGame_Distribute() {
	defer parallel.SetThreads(parallel.Default().Threads())
	parallel.SetThreads(1) // the goroutine ranks share the worker pool
	comms := cluster.Local(2)
	final := make([]gan.Stats, 2)
	var wg sync.WaitGroup
	for r, c := range comms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := tensor.NewRNG(1)
			mlp, _ := arch.Lookup("mlp")
			opts := &arch.MLPOptions{GHidden: []int{32}, DHidden: []int{32}, GActivation: "relu", DActivation: "relu"}
			g, d, _ := mlp.Build(opts, 8, arch.PointData(1), rng)
			p, _ := dist.Parse("N(2, 0.5)")
			adam := gan.Adam{LR: 1e-3, Beta1: 0.5, Beta2: 0.999}
			game, _ := gan.NewGame(gan.Config{Loss: gan.Losses["minimax"], Batch: 64, Latent: 8, DSteps: 1,
				G: adam, D: adam, Steps: 100}, g, d, &gan.PointSampler{D: p}, rng)
			if err := game.Distribute(c, false); err != nil {
				fmt.Println(err)
				return
			}
			for range 100 {
				final[r], _ = game.Step()
			}
			lo, hi := game.Rows()
			if r == 1 {
				fmt.Printf("rank 1 computes rows [%d, %d)\n", lo, hi)
			}
		}()
	}
	wg.Wait()
	fmt.Printf("step %d over %d ranks, the ranks agree: %v\n", final[0].Step, final[0].Ranks, final[0] == final[1])
	// Output:
	// rank 1 computes rows [32, 64)
	// step 100 over 2 ranks, the ranks agree: true
}
