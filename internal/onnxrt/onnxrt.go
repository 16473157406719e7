// Package onnxrt runs exported ONNX models with onnxruntime, for the tests
// that check `minmax export` against minmax's own samples: Node.js with
// the onnxruntime-node package (its CPU runtime ships inside the package),
// driven by run_onnx.js.
//
// The package is found under $MINMAX_ONNXRUNTIME_NODE, or else
// $HOME/.cache/minmax/onnxruntime: the folder that holds
// node_modules/onnxruntime-node, as made by
//
//	npm install --prefix ~/.cache/minmax/onnxruntime --ignore-scripts onnxruntime-node
//
// (--ignore-scripts: its install script would fetch GPU parts). Tests call
// Require, which skips when node or the package is missing, unless
// MINMAX_REQUIRE_ONNXRUNTIME=1, when it fails.
package onnxrt

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

//go:embed run_onnx.js
var script []byte

// EnvPrefix names the folder holding node_modules/onnxruntime-node.
const EnvPrefix = "MINMAX_ONNXRUNTIME_NODE"

// EnvRequire, set to 1, makes Require fail instead of skip.
const EnvRequire = "MINMAX_REQUIRE_ONNXRUNTIME"

// Install says how to install what Find looks for.
const Install = "install Node.js (apt-get install nodejs npm) and onnxruntime-node with " +
	"`npm install --prefix ~/.cache/minmax/onnxruntime --ignore-scripts onnxruntime-node`, " +
	"or set " + EnvPrefix + " to the folder holding node_modules/onnxruntime-node"

// Runtime is a node executable and the folder whose node_modules holds
// onnxruntime-node.
type Runtime struct {
	Node, Prefix string
}

// Find locates node and onnxruntime-node, or says what is missing and how
// to install it.
func Find() (*Runtime, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("node is not on PATH: %s", Install)
	}
	prefix := os.Getenv(EnvPrefix)
	if prefix == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("no home folder to look for onnxruntime-node in (%v): %s", err, Install)
		}
		prefix = filepath.Join(home, ".cache", "minmax", "onnxruntime")
	}
	if _, err := os.Stat(filepath.Join(prefix, "node_modules", "onnxruntime-node", "package.json")); err != nil {
		return nil, fmt.Errorf("onnxruntime-node is not installed in %s: %s", prefix, Install)
	}
	return &Runtime{Node: node, Prefix: prefix}, nil
}

// Require returns the runtime, or skips the test (fails it when
// MINMAX_REQUIRE_ONNXRUNTIME=1) saying how to install it.
func Require(t testing.TB) *Runtime {
	t.Helper()
	r, err := Find()
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("%s=1 and %v", EnvRequire, err)
		}
		t.Skipf("no onnxruntime to run the exported models: %v", err)
	}
	return r
}

// Result is what run_onnx.js reports of a run.
type Result struct {
	Inputs  []string `json:"inputs"`
	Outputs []string `json:"outputs"`
	Dims    []int    `json:"dims"`
}

// Run executes the model at model on the codes of the .npy file z (and
// the classes of the IDX or .npy file class, "" for none) and writes the
// output to the .npy file out.
func (r *Runtime) Run(model, z, class, out string) (*Result, error) {
	dir, err := os.MkdirTemp("", "minmax-onnxrt-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	js := filepath.Join(dir, "run_onnx.js")
	if err := os.WriteFile(js, script, 0o644); err != nil {
		return nil, err
	}
	args := []string{js, model, z}
	if class != "" {
		args = append(args, "--class", class)
	}
	cmd := exec.Command(r.Node, append(args, out)...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(r.Prefix, "node_modules"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("node run_onnx.js %s: %v\n%s", model, err, stderr.String())
		}
		return nil, err
	}
	var res Result
	if err := json.Unmarshal(stdout, &res); err != nil {
		return nil, fmt.Errorf("node run_onnx.js %s printed %q: %v", model, stdout, err)
	}
	return &res, nil
}
