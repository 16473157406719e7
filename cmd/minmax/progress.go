package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/minmaxgan/minmax/gan"
	"github.com/minmaxgan/minmax/run"
	"golang.org/x/term"
)

// progress shows a live bar on a terminal and plain periodic lines
// otherwise.
type progress struct {
	w        io.Writer
	tty      bool
	last     time.Time
	lastLine int
}

func newProgress(w io.Writer) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progress{w: w, tty: tty}
}

func (p *progress) Step(st gan.Stats, total, first int, elapsed time.Duration) {
	done := st.Step - first
	rate := float64(done) / elapsed.Seconds()
	var eta time.Duration
	if rate > 0 && !math.IsInf(rate, 0) {
		eta = time.Duration(float64(total-st.Step) / rate * float64(time.Second))
	}
	if p.tty {
		if time.Since(p.last) < 100*time.Millisecond && st.Step != total {
			return
		}
		p.last = time.Now()
		const width = 30
		filled := width * st.Step / total
		bar := strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
		fmt.Fprintf(p.w, "\r%s %5.1f%% %d/%d  %s  ETA %-8s  D %.3f  G %.3f ", bar,
			100*float64(st.Step)/float64(total), st.Step, total, formatRate(rate), eta.Round(time.Second), st.LossD, st.LossG)
		if st.Step == total {
			fmt.Fprintln(p.w)
		}
		return
	}
	every := max(total/10, 1)
	if st.Step%every == 0 || st.Step == total {
		fmt.Fprintf(p.w, "step %d/%d  %s  ETA %s  D loss %.4f  G loss %.4f  D(real) %+.3f  D(fake) %+.3f\n",
			st.Step, total, formatRate(rate), eta.Round(time.Second), st.LossD, st.LossG, st.DReal, st.DFake)
	}
}

// formatRate writes a training speed with three significant figures or
// so, as steps per second (or seconds per step when a step takes longer
// than a second): "312 step/s", "3.84 step/s", "2.07 s/step".
func formatRate(rate float64) string {
	switch {
	case !(rate > 0) || math.IsInf(rate, 0):
		return "- step/s"
	case rate >= 100:
		return fmt.Sprintf("%.0f step/s", rate)
	case rate >= 10:
		return fmt.Sprintf("%.1f step/s", rate)
	case rate >= 1:
		return fmt.Sprintf("%.2f step/s", rate)
	}
	return fmt.Sprintf("%.2f s/step", 1/rate)
}

func (p *progress) Eval(e run.Eval) {
	var parts []string
	if c := e.Coverage; c != nil {
		parts = append(parts, fmt.Sprintf("modes %d/%d, high quality %.1f%%, reverse KL %.3f", c.ModesCovered, c.ModesTotal, 100*c.HQFraction, c.ReverseKL))
	}
	if e.JSDEstimate != nil {
		parts = append(parts, fmt.Sprintf("JSD ≈ %.4f ± %.4f", *e.JSDEstimate, *e.JSDSE))
	}
	if s := e.Images; s != nil {
		cond := ""
		if a := s.ConditionalAccuracy; a != nil {
			cond = fmt.Sprintf(", class as asked %.1f%%", 100**a)
		}
		parts = append(parts, fmt.Sprintf("FD %.2f, KID %.4f, precision %.3f, recall %.3f%s (%d samples, evaluator %s)", s.FD, s.KID.Mean, s.Precision, s.Recall, cond, s.FakeN, s.Evaluator))
	}
	if len(parts) == 0 {
		return
	}
	prefix := ""
	if p.tty {
		prefix = "\r\033[K"
	}
	fmt.Fprintf(p.w, "%seval at step %d: %s\n", prefix, e.Step, strings.Join(parts, "; "))
}
