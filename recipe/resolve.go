package recipe

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/minmaxgan/minmax/imgdata"
)

// Override is one setting given on the command line.
type Override struct {
	Key   string // the recipe key, "optim.g.lr"
	Value string // as typed
	Flag  string // the flag that gave it, "--lr-g", for messages
}

// FlagError is an *Error of a setting that a flag gave: it names both.
type FlagError struct {
	Flag string
	Err  *Error
}

// Error formats the error as "--FLAG (KEY): MSG".
func (e *FlagError) Error() string { return fmt.Sprintf("%s (%s): %s", e.Flag, e.Err.Key, e.Err.Msg) }

// Unwrap returns the *Error.
func (e *FlagError) Unwrap() error { return e.Err }

// Resolve makes the recipe of a `minmax train`: the preset (or, without
// one, ForData of the data.source override, or Default), then the YAML
// file at configPath (if any), then the overrides in order; data paths are
// made absolute; the result is validated. An error about a setting a flag
// gave names the flag (*FlagError); one from the file names the file.
func Resolve(preset, configPath string, overrides []Override) (Recipe, error) {
	var data *Override
	for i := range overrides {
		if overrides[i].Key == "data.source" {
			overrides[i].Value = imgdata.CanonicalName(overrides[i].Value)
			data = &overrides[i]
		}
	}
	var r Recipe
	var err error
	derived := false
	switch {
	case preset != "":
		if r, err = Preset(preset); err != nil {
			return r, err
		}
	case data != nil:
		if r, err = ForData(data.Value); err != nil {
			return r, flagError(err, overrides)
		}
		derived = true
	default:
		r = Default()
	}
	if configPath != "" {
		y, err := os.ReadFile(configPath)
		if err != nil {
			return r, err
		}
		if r, err = parse(y, r); err != nil {
			return r, fmt.Errorf("%s: %w", configPath, err)
		}
	}
	steps, epochs := false, false
	for _, o := range overrides {
		switch o.Key {
		case "data.source":
			if derived {
				continue // ForData chose the recipe for it and set it
			}
		case "optim.steps":
			steps = true
		case "optim.epochs":
			epochs = true
		}
		if err := r.Set(o.Key, o.Value); err != nil {
			return r, flagError(err, overrides)
		}
	}
	if steps && !epochs {
		r.Optim.Epochs = 0 // --steps counts, not the preset's epochs
	}
	if err := r.absData(); err != nil {
		return r, err
	}
	if err := r.Validate(); err != nil {
		return r, flagError(err, overrides)
	}
	return r, nil
}

// absData makes a data source that is a path absolute, so that the run
// finds its data from any working folder.
func (r *Recipe) absData() error {
	s := r.Data.Source
	if s == "" || imgdata.Layout(s) == imgdata.LayoutNamed {
		return nil
	}
	if _, err := os.Stat(s); err != nil {
		return nil // a spec, or a path that Build will report missing
	}
	abs, err := filepath.Abs(s)
	if err != nil {
		return bad("data.source", "%v", err)
	}
	r.Data.Source = abs
	return nil
}

// WithFlags names the flag that set the key of err (an *Error), if one of
// overrides did: for errors found after Resolve, by Build.
func WithFlags(err error, overrides []Override) error { return flagError(err, overrides) }

// flagError names the flag that set the key of err, if one did.
func flagError(err error, overrides []Override) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	for i := len(overrides) - 1; i >= 0; i-- {
		if overrides[i].Key == e.Key && overrides[i].Flag != "" {
			return &FlagError{Flag: overrides[i].Flag, Err: e}
		}
	}
	return err
}
