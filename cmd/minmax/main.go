// Command minmax trains, evaluates and samples GANs, and checks the
// mathematics of the minmax game in numbers and pictures.
//
//	minmax train     train a GAN (default: the seed's minimax game on 8 Gaussians)
//	minmax sample    draw samples from a trained run
//	minmax export    write a run's generator as an ONNX model
//	minmax eval      evaluate a run
//	minmax theory    the seed's theory, computed exactly and checked by training
//	minmax bench     time a workload against the contract of ../shared/bench
//
// The command only parses flags and wires packages together; the work lives
// in the packages (see docs/architecture.md).
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/minmaxgan/minmax/internal/version"
	"github.com/minmaxgan/minmax/mpi"
	"github.com/spf13/cobra"
)

// usageError marks errors in how the command was called (exit status 2).
type usageError struct{ error }

// exitError ends the process with its code and no message (the command
// has said what happened): 130 and 143 for a run stopped by SIGINT or
// SIGTERM after saving.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// gcPercent is the garbage collector's target unless GOGC is set. Most of
// a training process's heap is the tape's arena and the data set: large,
// long-lived and pointer-free, so marking it is cheap, while Go's default
// (100) would let a run's few short-lived allocations (metrics lines,
// evaluations, checkpoints) grow the heap to twice the arena before a
// collection. With 20 the peak stays close to what is live.
const gcPercent = 20

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	root := newRoot()
	if err := root.Execute(); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "minmax:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "minmax",
		Short: "GAN training in pure Go: the minmax game, its theory, and a fast CPU engine",
		Long: `minmax trains generative adversarial networks on the CPU with its own
tensor engine (assembly GEMM, higher-order autodiff), and makes the theory
of the minmax game checkable: the optimal discriminator D* = log P/Q, the
value V_D(G, D*) = 2 log 2 - 2 JSD, and its maximum at P = Q.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version.String(),
	}
	root.SetVersionTemplate("minmax {{.Version}}\n")
	// Only training and its benchmark are data-parallel; any other command
	// started by mpirun on N ranks would do the whole job N times.
	root.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		if size, _, ok := mpi.Launched(); ok && size > 1 && c.Name() != "train" && c.Name() != "bench" {
			return usageError{fmt.Errorf("%s runs in one process: start it without mpirun (only train and bench run across %d ranks)", c.CommandPath(), size)}
		}
		return nil
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%s: %s (see 'minmax %s --help')", c.Name(), flagMessage(err), c.Name())}
	})
	root.AddCommand(newTrainCmd(), newBenchCmd(), newEvaluatorCmd(),
		newSampleCmd(), newExportCmd(), newEvalCmd(), newDataCmd(),
		newTheoryCmd(), newServeCmd(),
	)
	return root
}

// flagMessage rewrites pflag's errors about values, which quote Go's
// parsers ("strconv.ParseInt: parsing ..."), in plain words.
func flagMessage(err error) string {
	msg := err.Error()
	var ne *strconv.NumError
	if !errors.As(err, &ne) {
		return msg
	}
	what := "a number"
	switch {
	case strings.HasPrefix(ne.Func, "ParseInt"), strings.HasPrefix(ne.Func, "ParseUint"):
		what = "a whole number"
		if strings.HasPrefix(ne.Func, "ParseUint") {
			what = "a whole number >= 0"
		}
	case strings.HasPrefix(ne.Func, "ParseBool"):
		what = "true or false"
	}
	if ne.Err == strconv.ErrRange {
		what += " in range"
	}
	// pflag: invalid argument "x" for "-n, --n" flag: strconv.ParseInt: ...
	if i := strings.Index(msg, ": strconv."); i >= 0 {
		msg = msg[:i]
	}
	return msg + ": want " + what
}
