package gan_test

import (
	"fmt"

	"github.com/minmaxgan/minmax/gan"
)

// Play the seed's game on a 1-D Gaussian: D steps on eq. (1), G on eq. (2).
// At the start D cannot tell real from generated, so V_D = 2 log 2.
func ExampleNewGame() {
	cfg, _ := gan.Preset("mix1d")
	cfg.Data = "N(2, 0.5)"
	cfg.Batch, cfg.GHidden, cfg.DHidden = 64, []int{32}, []int{32}
	game, err := gan.NewGame(cfg)
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
	fmt.Printf("step %d, loss %s, V_D finite: %v\n", st.Step, game.Cfg.Loss, st.LossD > 0 && st.LossD < 10)
	// Output: step 300, loss minimax, V_D finite: true
}
