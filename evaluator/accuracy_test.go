package evaluator

import (
	"math"
	"testing"
)

// The conditional accuracy and its class-by-class shares count a sample
// right when its most probable class (the first of equal ones) is the
// one asked for; a class nobody asked for scores 0; a label outside the
// classes is an error naming the sample.
func TestClassAccuracy(t *testing.T) {
	// 3 classes; 5 samples asked for 0, 0, 1, 1, 1.
	probs := []float32{
		0.7, 0.2, 0.1, // 0: right
		0.2, 0.5, 0.3, // 0: wrong (1)
		0.1, 0.8, 0.1, // 1: right
		0.4, 0.4, 0.2, // 1: wrong (a tie goes to class 0)
		0.0, 0.9, 0.1, // 1: right
	}
	labels := []int{0, 0, 1, 1, 1}
	acc, got, err := conditionalAccuracy(probs, labels, 5, 3)
	if err != nil || math.Abs(*acc-0.6) > 1e-12 {
		t.Fatalf("conditional accuracy %v, %v; want 0.6", acc, err)
	}
	want := []float64{0.5, 2.0 / 3, 0}
	for c := range want {
		if math.Abs(got[c]-want[c]) > 1e-12 {
			t.Fatalf("class accuracy %v, want %v", got, want)
		}
	}
	if _, _, err := conditionalAccuracy(probs, []int{0, 0, 1, 3, 1}, 5, 3); err == nil {
		t.Error("label 3 of 3 classes was accepted")
	}
}
