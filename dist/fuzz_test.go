package dist

import (
	"errors"
	"math"
	"testing"
)

// FuzzParse checks that Parse never panics, that every error is a
// *SyntaxError pointing inside the spec, and that whatever parses
// round-trips through String to an identical distribution.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"N(0,1)", "U(0, 1)", "Laplace(-1, .5)", "N2(1, 2, 3e-2)",
		"ring(8)", "ring(8, r=1, sd=0.01)", "grid(5, spacing=2, sd=0.05)",
		"mix(0.3:N(-2,0.5), 0.7:N(1,1))", "mix(1:mix(1:U(0,1), 2:Laplace(0,1)), 1:N(0,1))",
		"mix(1:ring(3), 2:grid(2), 1e-300:N2(0,0,1e300))",
		"N(1e308, 1e308)", "U(-1e-320, 1e-320)", "ring(1000, r=5e-324, sd=1e-300)",
		"", "N(", "ring(8, sd=)", "mix(1:N(0,1), 1:N2(0,0,1))", "N(0,1e)", "é(",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		d, err := Parse(spec)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q): error %T is not a *SyntaxError", spec, err)
			}
			if se.Pos < 0 || se.Pos > len(spec) || se.Spec != spec || se.Msg == "" {
				t.Fatalf("Parse(%q): bad SyntaxError %+v", spec, se)
			}
			_ = se.Error()
			return
		}
		s := d.String()
		d2, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q) ok but its String %q does not parse: %v", spec, s, err)
		}
		if s2 := d2.String(); s2 != s {
			t.Fatalf("round trip changed %q into %q", s, s2)
		}
		if d.Dim() != d2.Dim() || (d.Dim() != 1 && d.Dim() != 2) {
			t.Fatalf("dimensions %d, %d", d.Dim(), d2.Dim())
		}
		x := []float64{0.3, -0.7}[:d.Dim()]
		a, b := d.LogProb(x), d2.LogProb(x)
		if a != b && !(math.IsNaN(a) && math.IsNaN(b)) {
			t.Fatalf("LogProb differs after round trip: %v vs %v", a, b)
		}
		if math.IsNaN(a) || a == math.Inf(1) {
			t.Fatalf("%s.LogProb(%v) = %v", s, x, a)
		}
	})
}
