package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/lab"
	"github.com/spf13/cobra"
)

func newSweepCmd() *cobra.Command {
	var (
		pSpec, family, outDir string
		from, to              float64
		n, trainSteps         int
		threads               int
		seed                  uint64
		asJSON                bool
	)
	c := &cobra.Command{
		Use:   "sweep --p SPEC --family shift|scale",
		Short: "V_D(G_θ, D*) = 2 log 2 - 2 JSD over a family of generators Q_θ; largest at Q_θ = P",
		Long: `Sweep a one-parameter family of generator distributions Q_θ built from P
and compute V_D(G_θ, D*) = 2 log 2 - 2 JSD(P || Q_θ) (eq. 7) at each θ. The
seed's eq. (9)-(10) say it is largest, 2 log 2, exactly where Q_θ = P.

Families:
  shift   Q_θ = P moved by θ along the first axis (Q_0 = P); default θ in [-4, 4]
  scale   Q_θ = P scaled by θ about the origin (Q_1 = P);    default θ in [0.25, 4]

With --train-steps N a discriminator is also trained at each θ and the V_D it
reaches on held-out samples is plotted with error bars.`,
		Example: `  minmax theory sweep --p 'mix(0.3:N(-2,0.5), 0.7:N(1,1))' --family shift --out runs/sweep
  minmax theory sweep --p 'ring(8, r=2, sd=0.1)' --family scale --n 31 --json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			out := c.OutOrStdout()
			if pSpec == "" {
				return usageError{fmt.Errorf("theory sweep: --p is required (e.g. --p 'N(0, 1)')")}
			}
			p, err := dist.Parse(pSpec)
			if err != nil {
				return usageError{fmt.Errorf("--p: %w", err)}
			}
			fam, ok := lab.Families[family]
			if !ok {
				names := make([]string, 0, len(lab.Families))
				for k := range lab.Families {
					names = append(names, k)
				}
				sort.Strings(names)
				return usageError{fmt.Errorf("theory sweep: unknown --family %q; want one of %s", family, strings.Join(names, ", "))}
			}
			if !c.Flags().Changed("from") && !c.Flags().Changed("to") && family == "scale" {
				from, to = 0.25, 4
			}
			if n < 2 || from >= to {
				return usageError{fmt.Errorf("theory sweep: need --n >= 2 and --from < --to, got n=%d, [%g, %g]", n, from, to)}
			}
			if family == "scale" && from <= 0 {
				return usageError{fmt.Errorf("theory sweep: the scale family needs θ > 0, got --from %g", from)}
			}
			if err := useThreads("theory sweep", threads); err != nil {
				return err
			}
			thetas := make([]float64, n)
			for i := range thetas {
				thetas[i] = from + (to-from)*float64(i)/float64(n-1)
			}
			// Make sure the optimum itself is on the grid.
			if fam.At > from && fam.At < to {
				thetas = append(thetas, fam.At)
				sort.Float64s(thetas)
				thetas = dedupe(thetas)
			}
			pts, err := lab.Sweep(p, fam, thetas, trainSteps, seed)
			if err != nil {
				return fmt.Errorf("theory sweep: %w", err)
			}
			var picture string
			if outDir != "" {
				if err := os.MkdirAll(outDir, 0o755); err != nil {
					return fmt.Errorf("theory sweep: --out: %w", err)
				}
				picture = filepath.Join(outDir, "sweep_"+family+".png")
				if err := lab.PlotSweep(picture, p, fam, pts); err != nil {
					return fmt.Errorf("theory sweep: %w", err)
				}
			}
			best := 0
			for i, pt := range pts {
				if pt.VDStar > pts[best].VDStar {
					best = i
				}
			}
			if asJSON {
				b, err := json.Marshal(map[string]any{
					"p": p.String(), "family": family, "points": pts,
					"argmax_theta": pts[best].Theta, "max_vd_star": pts[best].VDStar, "two_log_2": 2 * math.Ln2,
					"picture": picture,
				})
				if err != nil {
					return err
				}
				fmt.Fprintln(out, string(b))
				return nil
			}
			fmt.Fprintf(out, "P = %s, family %s\n\n%10s  %14s  %14s", p, family, "θ", "JSD(P||Q_θ)", "V_D(G_θ,D*)")
			if trainSteps > 0 {
				fmt.Fprintf(out, "  %20s", "V_D trained ± s.e.")
			}
			fmt.Fprintln(out)
			for _, pt := range pts {
				fmt.Fprintf(out, "%10.4g  %14.10f  %14.10f", pt.Theta, pt.JSD, pt.VDStar)
				if pt.VDTrained != nil {
					fmt.Fprintf(out, "  %12.5f ± %.5f", *pt.VDTrained, *pt.VDTrainedSE)
				}
				fmt.Fprintln(out)
			}
			fmt.Fprintf(out, "\nlargest V_D(G_θ, D*) = %.10f at θ = %g; 2 log 2 = %.10f (eq. 10: reached where Q_θ = P)\n",
				pts[best].VDStar, pts[best].Theta, 2*math.Ln2)
			if picture != "" {
				fmt.Fprintln(out, "picture:", picture)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&pSpec, "p", "", "the data distribution P (spec, see docs/distributions.md)")
	f.StringVar(&family, "family", "shift", "the family Q_θ: shift or scale")
	f.Float64Var(&from, "from", -4, "first θ")
	f.Float64Var(&to, "to", 4, "last θ")
	f.IntVar(&n, "n", 41, "number of θ values (the optimum is added if it lies inside)")
	f.IntVar(&trainSteps, "train-steps", 0, "also train a discriminator for this many steps at each θ")
	f.IntVar(&threads, "threads", defaultThreads(), "worker threads for compute")
	f.Uint64Var(&seed, "seed", 1, "random seed")
	f.BoolVar(&asJSON, "json", false, "print one JSON object")
	f.StringVar(&outDir, "out", "", "write the picture into this directory")
	return c
}

func dedupe(s []float64) []float64 {
	out := s[:0]
	for i, v := range s {
		if i > 0 && math.Abs(v-out[len(out)-1]) < 1e-12 {
			continue
		}
		out = append(out, v)
	}
	return out
}
