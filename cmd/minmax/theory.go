package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/lab"
	"github.com/spf13/cobra"
)

func newTheoryCmd() *cobra.Command {
	var (
		pSpec, qSpec, outDir string
		steps, batch         int
		threads              int
		seed                 uint64
		asJSON, noTrain      bool
	)
	c := &cobra.Command{
		Use:   "theory --p SPEC --q SPEC",
		Short: "The seed's theory, computed exactly and checked by training a discriminator",
		Long: `Compute the seed's quantities for a data distribution P and a fixed
generator distribution Q, exactly (deterministic quadrature), then train an
MLP discriminator on samples of P and Q with the seed's loss (eq. 1) and
measure how close it comes:

  D*(x) = log P(x) - log Q(x)                      (eq. 6)
  V_D(G, D*) = 2 log 2 - 2 JSD(P || Q)             (eq. 7)
  dV_D/dD(x) = -P(x) sigmoid(-D) + Q(x) sigmoid(D) = 0 at D*   (eq. 4-5)

Distributions are written in the spec language of docs/distributions.md,
e.g. 'N(0, 1)', 'mix(0.3:N(-2, 0.5), 0.7:N(1, 1))', 'ring(8, r=2, sd=0.3)'.

Examples:
  minmax theory --p 'mix(0.3:N(-2,0.5), 0.7:N(1,1))' --q 'Laplace(0, 1.5)' --out runs/theory1d
  minmax theory --p 'ring(8, r=2, sd=0.3)' --q 'N2(0, 0, 1.5)' --json
  minmax theory sweep --p 'N(0, 1)' --family shift --from -4 --to 4`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			out := c.OutOrStdout()
			p, q, err := parsePair(pSpec, qSpec)
			if err != nil {
				return err
			}
			if steps < 1 || batch < 1 {
				return usageError{fmt.Errorf("theory: --steps (%d) and --batch (%d) must be at least 1", steps, batch)}
			}
			if err := useThreads("theory", threads); err != nil {
				return err
			}
			ex, err := lab.ComputeExact(p, q)
			if err != nil {
				return fmt.Errorf("theory: %w", err)
			}
			if !asJSON {
				printExact(out, p, q, ex)
			}
			if noTrain {
				if asJSON {
					return printJSON(out, exactJSON(p, q, ex))
				}
				return nil
			}
			opts := lab.Options{Steps: steps, Batch: batch, Seed: seed}
			if !asJSON {
				fmt.Fprintf(out, "\nTraining D (MLP 3x128 ReLU, Adam) on fresh samples of P and Q, %d steps, batch %d each...\n", steps, batch)
				opts.Progress = func(step int, loss float64) {
					fmt.Fprintf(c.ErrOrStderr(), "  step %5d  V_D on the batch %.5f\n", step, loss)
				}
			}
			r, err := lab.Train(p, q, ex, opts)
			if err != nil {
				return fmt.Errorf("theory: %w", err)
			}
			var paths []string
			if outDir != "" {
				if err := os.MkdirAll(outDir, 0o755); err != nil {
					return fmt.Errorf("theory: --out: %w", err)
				}
				if paths, err = lab.Plot(p, q, r, outDir, seed); err != nil {
					return fmt.Errorf("theory: %w", err)
				}
			}
			if asJSON {
				m := exactJSON(p, q, ex)
				m["vd_trained"] = r.VDTrained
				m["vd_trained_se"] = r.VDTrainedSE
				m["vd_excess"] = r.VDExcess
				m["jsd_estimate"] = r.JSDEstimate
				m["d_rmse"] = r.DRMSE
				m["d_rmse_mass"] = r.DRMSEMass
				m["p_rmse"] = r.PRMSE
				m["deriv_max_trained"] = r.DerivMaxAbs
				m["deriv_l1_trained"] = r.DerivL1
				m["quad_err_trained"] = r.QuadErr
				m["steps"] = r.Steps
				m["seed"] = seed
				m["seconds"] = r.Seconds
				if len(paths) > 0 {
					m["pictures"] = paths
				}
				return printJSON(out, m)
			}
			printTrained(out, r)
			for _, p := range paths {
				fmt.Fprintln(out, "picture:", p)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&pSpec, "p", "", "the data distribution P (spec, see docs/distributions.md)")
	f.StringVar(&qSpec, "q", "", "the generator's distribution Q, held fixed")
	f.IntVar(&steps, "steps", 4000, "discriminator training steps")
	f.IntVar(&batch, "batch", 512, "samples of P and of Q per step")
	f.IntVar(&threads, "threads", defaultThreads(), "worker threads for compute")
	f.Uint64Var(&seed, "seed", 1, "random seed")
	f.BoolVar(&asJSON, "json", false, "print one JSON object")
	f.BoolVar(&noTrain, "exact-only", false, "print the exact figures only (no training)")
	f.StringVar(&outDir, "out", "", "write the pictures into this directory")
	c.AddCommand(newSweepCmd())
	return c
}

func parsePair(pSpec, qSpec string) (dist.Dist, dist.Dist, error) {
	if pSpec == "" || qSpec == "" {
		return nil, nil, usageError{fmt.Errorf("theory: both --p and --q are required (e.g. --p 'N(0, 1)' --q 'N(1, 2)')")}
	}
	p, err := dist.Parse(pSpec)
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("--p: %w", err)}
	}
	q, err := dist.Parse(qSpec)
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("--q: %w", err)}
	}
	if p.Dim() != q.Dim() {
		return nil, nil, usageError{fmt.Errorf("theory: --p is %d-dimensional and --q is %d-dimensional; they must agree", p.Dim(), q.Dim())}
	}
	return p, q, nil
}

// finite turns ±Inf into nil so JSON can carry it (as null).
func finite(v float64) any {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil
	}
	return v
}

func exactJSON(p, q dist.Dist, ex lab.Exact) map[string]any {
	return map[string]any{
		"p": p.String(), "q": q.String(),
		"jsd_exact": ex.JSD, "jsd_exact_err": ex.JSDErr, "jsd_exact_bits": ex.JSDBits,
		"vd_star_exact": ex.VDStarEq7, "vd_star_eq1": ex.VDStarEq1,
		"kl_pq": finite(ex.KLPQ), "kl_qp": finite(ex.KLQP),
		"deriv_max_at_dstar": ex.DerivAtDStar, "deriv_max_at_dstar_plus_half": ex.DerivPerturbd,
	}
}

func printJSON(out io.Writer, m map[string]any) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, string(b))
	return nil
}

func printExact(w io.Writer, p, q dist.Dist, ex lab.Exact) {
	fmt.Fprintf(w, "P = %s\nQ = %s\n\nExact, by quadrature:\n", p, q)
	fmt.Fprintf(w, "  JSD(P || Q)                       %.10f nats (%.10f bits), error estimate %.1e\n", ex.JSD, ex.JSDBits, ex.JSDErr)
	fmt.Fprintf(w, "  KL(P || Q), KL(Q || P)            %s, %s\n", fmtKL(ex.KLPQ), fmtKL(ex.KLQP))
	fmt.Fprintf(w, "  V_D(G, D*) by eq. (1)             %.10f\n", ex.VDStarEq1)
	fmt.Fprintf(w, "  V_D(G, D*) = 2 log 2 - 2 JSD (7)  %.10f   (difference %.1e)\n", ex.VDStarEq7+0, ex.VDStarEq1-ex.VDStarEq7)
	fmt.Fprintf(w, "  max |dV_D/dD| at D* (eq. 4-5)     %.1e   (at D* + 0.5: %.3g)\n", ex.DerivAtDStar, ex.DerivPerturbd)
}

func fmtKL(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf (a support is not covered)"
	}
	return fmt.Sprintf("%.10f", v)
}

func printTrained(w io.Writer, r *lab.Report) {
	fmt.Fprintf(w, "\nTrained discriminator (%d steps, %.1f s):\n", r.Steps, r.Seconds)
	fmt.Fprintf(w, "  V_D reached (held-out sample)     %.5f ± %.5f (1 s.e.)\n", r.VDTrained, r.VDTrainedSE)
	fmt.Fprintf(w, "  JSD estimate log 2 - V_D/2        %.5f   (exact %.5f)\n", r.JSDEstimate, r.Exact.JSD)
	fmt.Fprintf(w, "  V_D(G, D) - V_D(G, D*) excess     %.6f   (never negative, by the theory; quadrature error %.1e)\n", r.VDExcess, r.QuadErr)
	fmt.Fprintf(w, "  RMSE of D - D* where |D*| <= 5    %.4f   (M-weighted; that region holds %.1f%% of M's mass)\n", r.DRMSE, 100*r.DRMSEMass)
	fmt.Fprintf(w, "  RMSE of sigmoid(D) - P/(P+Q)      %.4f   (M-weighted, everywhere)\n", r.PRMSE)
	fmt.Fprintf(w, "  functional derivative at D        max %.2e, L1 %.2e\n", r.DerivMaxAbs, r.DerivL1)
}
