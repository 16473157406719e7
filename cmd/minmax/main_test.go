package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

// run executes the CLI in-process with args and returns stdout and the error.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// Without its data set, the image workload says which one and how to get it.
func TestMissingDataSetSaysHowToGetIt(t *testing.T) {
	t.Setenv("MINMAX_DATA", t.TempDir())
	_, err := runCLI(t, "bench", "--workload", "dcgan28")
	if err == nil || !strings.Contains(err.Error(), "fashion-mnist") || !strings.Contains(err.Error(), "MINMAX_DATA") {
		t.Errorf("bench dcgan28 without data: err = %v", err)
	}
	_, err = runCLI(t, "train", "--preset", "dcgan-fashion-mnist", "--run", t.TempDir()+"/r")
	if err == nil || !strings.Contains(err.Error(), "fashion-mnist") {
		t.Errorf("train dcgan-fashion-mnist without data: err = %v", err)
	}
}

func TestUsageErrorsNameTheFlag(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"bench", "--threads", "0"}, "--threads"},
		{[]string{"bench", "--workload", "nope"}, "--workload"},
		{[]string{"train", "--steps", "0"}, "--steps"},
		{[]string{"train", "--resume", "x", "--loss", "hinge"}, "--loss"},
		{[]string{"train", "--model", "resnet"}, "--model"},
		{[]string{"train", "--preset", "dcgan-fashion-mnist", "--image-size", "30"}, "--image-size"},
		{[]string{"train", "--preset", "dcgan-fashion-mnist", "--width", "0"}, "--width"},
		{[]string{"theory", "--p", "N(0, 1)"}, "--q"},
		{[]string{"theory", "--p", "N(0, -1)", "--q", "N(0, 1)"}, "--p"},
		{[]string{"theory", "--p", "N(0, 1)", "--q", "N2(0, 0, 1)"}, "dimensional"},
		{[]string{"theory", "sweep", "--p", "N(0, 1)", "--family", "rotate"}, "--family"},
		{[]string{"theory", "sweep", "--p", "N(0, 1)", "--family", "scale", "--from", "-1"}, "θ > 0"},
	}
	for _, c := range cases {
		_, err := runCLI(t, c.args...)
		var ue usageError
		if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want a usage error mentioning %q", c.args, err, c.want)
		}
	}
}

func TestTheoryExactJSON(t *testing.T) {
	out, err := runCLI(t, "theory", "--p", "U(0, 1)", "--q", "U(2, 3)", "--exact-only", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("not JSON: %q: %v", out, err)
	}
	// Disjoint supports: JSD = log 2, V_D(G, D*) = 0, KL infinite (null).
	if v := m["jsd_exact"].(float64); math.Abs(v-math.Ln2) > 1e-9 {
		t.Errorf("jsd_exact = %v, want log 2", v)
	}
	if v := m["vd_star_exact"].(float64); math.Abs(v) > 1e-9 {
		t.Errorf("vd_star_exact = %v, want 0", v)
	}
	if m["kl_pq"] != nil {
		t.Errorf("kl_pq = %v, want null (infinite)", m["kl_pq"])
	}
}

func TestSweepFindsTheOptimumAtPEqualsQ(t *testing.T) {
	out, err := runCLI(t, "theory", "sweep", "--p", "mix(0.5:N(-1, 0.5), 0.5:N(1, 0.5))", "--family", "scale", "--from", "0.5", "--to", "2", "--n", "8", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		ArgMax float64 `json:"argmax_theta"`
		Max    float64 `json:"max_vd_star"`
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	if m.ArgMax != 1 || math.Abs(m.Max-2*math.Ln2) > 1e-9 {
		t.Fatalf("maximum %v at θ = %v, want 2 log 2 at θ = 1", m.Max, m.ArgMax)
	}
}

func TestVersion(t *testing.T) {
	out, err := runCLI(t, "--version")
	if err != nil || !strings.HasPrefix(out, "minmax 0.") || !strings.Contains(out, "commit") {
		t.Fatalf("--version: %q, %v", out, err)
	}
}
