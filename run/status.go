package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// StatusFile records what the process training a run is doing, or how
// it ended: written by Train when it starts and when it stops, so that a
// reader (minmax serve) can tell a finished run from an interrupted or a
// failed one without asking the trainer.
const StatusFile = "status.json"

// The states of a run.
const (
	StateRunning     = "running"
	StateFinished    = "finished"
	StateInterrupted = "interrupted"
	StateFailed      = "failed"
)

// Status is the content of status.json.
type Status struct {
	// State is one of running, finished, interrupted or failed.
	State string `json:"state"`
	// Step is the step the run had reached when the state was written,
	// Steps the step it trains to.
	Step  int `json:"step"`
	Steps int `json:"steps"`
	// PID is the training process (while running).
	PID int `json:"pid,omitempty"`
	// Started is when this training process started, Updated when the
	// state was written.
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated"`
	// Error says why a run failed or was interrupted.
	Error string `json:"error,omitempty"`
}

// writeStatus records the run's state in status.json.
func (r *Run) writeStatus(state string, started time.Time, cause error) error {
	s := Status{State: state, Step: r.Game.StepsDone(), Steps: r.Steps(), Started: started.UTC(), Updated: time.Now().UTC()}
	if state == StateRunning {
		s.PID = os.Getpid()
	}
	if cause != nil {
		s.Error = cause.Error()
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(r.Dir, StatusFile), append(b, '\n')); err != nil {
		return fmt.Errorf("writing %s: %w", StatusFile, err)
	}
	return nil
}

// ReadStatus says what state the run in dir is in. A run whose
// status.json says it is running but whose directory lock no process
// holds was stopped without saying so (killed, or the machine went down):
// it is reported as interrupted. Runs written before status.json existed
// are judged from their files: finished when eval.json is at the final
// step, running while the lock is held, interrupted otherwise.
func ReadStatus(dir string) (Status, error) {
	var s Status
	b, err := os.ReadFile(filepath.Join(dir, StatusFile))
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &s); err != nil {
			return s, fmt.Errorf("%s: %w", filepath.Join(dir, StatusFile), err)
		}
	case errors.Is(err, os.ErrNotExist):
		s = inferStatus(dir)
	default:
		return s, err
	}
	pid, held := LockHolder(dir)
	switch {
	case held && s.State != StateRunning:
		// A process has the run but has not written its state yet (it is
		// starting, or resuming).
		s.State, s.PID, s.Error = StateRunning, pid, ""
	case !held && s.State == StateRunning:
		s.State = StateInterrupted
		s.Error = "the training process ended without saving its state (killed, or the machine stopped); resume from the last checkpoint"
		s.PID = 0
	}
	return s, nil
}

// inferStatus judges a run that has no status.json from its files.
func inferStatus(dir string) Status {
	s := Status{State: StateInterrupted}
	if rec, err := LoadRecipe(dir); err == nil {
		s.Steps = rec.Optim.Steps
	}
	var e struct {
		Step int `json:"step"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, EvalFile)); err == nil && json.Unmarshal(b, &e) == nil {
		s.Step = e.Step
		if s.Steps > 0 && e.Step >= s.Steps {
			s.State = StateFinished
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, MetricsFile)); err == nil {
		s.Updated = fi.ModTime().UTC()
	}
	return s
}
