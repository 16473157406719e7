package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/minmaxgan/minmax/serve"
	"github.com/spf13/cobra"
)

func newServeCmd() *cobra.Command {
	var (
		addr       string
		maxSamples int
		parallel   int
	)
	c := &cobra.Command{
		Use:   "serve [RUNS...]",
		Short: "A live dashboard of runs, and an API that samples their generators",
		Long: `Serve a web dashboard of the runs in the given folders (default runs/):
each a run directory, or a folder of runs. Runs that are training move live
(losses, D's outputs, gradient and spectral norms, the evaluator's scores,
sample grids over time, the game on the line and the plane); a theory page
computes D* and eq. (7) for any P and Q. The server only reads the runs.

API (JSON; see 'go doc github.com/minmaxgan/minmax/serve'):
  GET /api/runs                        the runs and their latest scores
  GET /api/runs/RUN/metrics?since=STEP metrics.jsonl records after STEP
  GET /api/runs/RUN/events             server-sent events as the run trains
  GET /api/runs/RUN/samples?n=64&seed=1&class=K&truncation=T&format=png|npy|json
  GET /api/runs/RUN/interpolate?seed=1&to=2&steps=8&class=K&format=png|npy|json
  GET /api/theory?p=SPEC&q=SPEC

It listens on 127.0.0.1 (this machine only) unless --addr says otherwise.

Examples:
  minmax serve
  minmax serve --addr 127.0.0.1:9000 runs/ /data/old-runs
  curl -o grid.png 'http://127.0.0.1:8080/api/runs/RUN/samples?n=64&seed=7'`,
		RunE: func(c *cobra.Command, args []string) error {
			if maxSamples < 1 {
				return usageError{fmt.Errorf("serve: --max-samples must be at least 1, got %d", maxSamples)}
			}
			if parallel < 1 {
				return usageError{fmt.Errorf("serve: --parallel must be at least 1, got %d", parallel)}
			}
			if _, _, err := net.SplitHostPort(addr); err != nil {
				return usageError{fmt.Errorf("serve: --addr %q: want host:port, such as 127.0.0.1:8080", addr)}
			}
			s, err := serve.New(serve.Options{Roots: args, MaxSamples: maxSamples, MaxConcurrent: parallel})
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("serve: --addr %s: %w", addr, err)
			}
			errOut := c.ErrOrStderr()
			if !serve.Loopback(ln.Addr().String()) {
				fmt.Fprintf(errOut, "minmax serve: warning: listening on %s, beyond this machine's loopback: anyone who can reach it can read the runs and use the CPU to sample\n", ln.Addr())
			}
			roots := args
			if len(roots) == 0 {
				roots = []string{"runs"}
			}
			fmt.Fprintf(c.OutOrStdout(), "minmax serve: http://%s/ (runs in %v; Ctrl-C stops)\n", ln.Addr(), roots)
			srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ln) }()
			select {
			case err := <-done:
				return err
			case <-ctx.Done():
			}
			s.Close() // end the live pages' event streams
			shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err := srv.Shutdown(shut); errors.Is(err, context.DeadlineExceeded) {
				return srv.Close() // live pages keep their event streams open
			} else if err != nil {
				return err
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on (host:port)")
	f.IntVar(&maxSamples, "max-samples", serve.DefaultMaxSamples, "the most samples one API request may ask for")
	f.IntVar(&parallel, "parallel", 2, "sampling requests that generate at once (others wait)")
	return c
}
