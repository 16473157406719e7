package dist

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCanonical(t *testing.T) {
	cases := []struct{ in, want string }{
		{"N(0,1)", "N(0, 1)"},
		{"  N ( -2.5 , 1e-3 )  ", "N(-2.5, 0.001)"},
		{"N(.5, 1.)", "N(0.5, 1)"},
		{"N(+3, 2.5E+2)", "N(3, 250)"},
		{"N(-0, 1)", "N(0, 1)"},
		{"N(1e21, 1e-300)", "N(1e+21, 1e-300)"},
		{"U(0,1)", "U(0, 1)"},
		{"U(-3, -1)", "U(-3, -1)"},
		{"Laplace(1, 0.25)", "Laplace(1, 0.25)"},
		{"N2(1, -1, 0.5)", "N2(1, -1, 0.5)"},
		{"ring(8)", "ring(8, r=2, sd=0.02)"},
		{"ring(8, r=1, sd=0.01)", "ring(8, r=1, sd=0.01)"},
		{"ring(8, sd=0.01, r=1)", "ring(8, r=1, sd=0.01)"},
		{"ring(3, sd=0.1)", "ring(3, r=2, sd=0.1)"},
		{"ring(1e1)", "ring(10, r=2, sd=0.02)"},
		{"grid(5)", "grid(5, spacing=2, sd=0.05)"},
		{"grid(4, spacing=1.5)", "grid(4, spacing=1.5, sd=0.05)"},
		{"grid(2,sd=0.1,spacing=3)", "grid(2, spacing=3, sd=0.1)"},
		{"mix(1:N(0,1))", "mix(1:N(0, 1))"},
		{"mix(0.3:N(-2,0.5),0.7:N(1,1))", "mix(0.3:N(-2, 0.5), 0.7:N(1, 1))"},
		{"mix(1:U(0,1), 2:Laplace(0,1), 3:N(0,1))", "mix(1:U(0, 1), 2:Laplace(0, 1), 3:N(0, 1))"},
		{"mix(1:ring(8), 1:grid(3), 2:N2(0,0,1))", "mix(1:ring(8, r=2, sd=0.02), 1:grid(3, spacing=2, sd=0.05), 2:N2(0, 0, 1))"},
		{"mix(1:mix(1:N(0,1),1:N(1,1)),2:U(0,1))", "mix(1:mix(1:N(0, 1), 1:N(1, 1)), 2:U(0, 1))"},
		{"\tmix(\n1 : N(0,1)\r\n)", "mix(1:N(0, 1))"},
	}
	for _, c := range cases {
		d, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got := d.String(); got != c.want {
			t.Errorf("Parse(%q).String() = %q, want %q", c.in, got, c.want)
		}
		d2, err := Parse(d.String())
		if err != nil || d2.String() != d.String() {
			t.Errorf("round trip of %q: %v, %v", d.String(), d2, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		in  string
		pos int
		msg string
	}{
		{"", 0, "expected a distribution (one of N, U, Laplace, N2, ring, grid, mix), found the end of the spec"},
		{"Nx(0,1)", 0, `unknown distribution "Nx"; expected one of N, U, Laplace, N2, ring, grid, mix`},
		{"n(0,1)", 0, `unknown distribution "n"`},
		{"(0,1)", 0, "expected a distribution"},
		{"N", 1, `expected '(' after "N" (N(mu, sd)), found the end of the spec`},
		{"N(", 2, "expected a number for the mean mu of N(mu, sd), found the end of the spec"},
		{"N(a,1)", 2, `expected a number for the mean mu of N(mu, sd), found "a"`},
		{"N(0 1)", 4, "expected ',' after the mean mu in N(mu, sd), found number 1"},
		{"N(0)", 3, "too few arguments: N(mu, sd) takes 2"},
		{"N(0,1,2)", 5, "too many arguments: N(mu, sd) takes 2"},
		{"N(0,1", 5, "expected ')' to close N(mu, sd), found the end of the spec"},
		{"N(0,-1)", 4, "N(mu, sd): sd must be finite and > 0 (got -1)"},
		{"N(0, 0)", 5, "sd must be finite and > 0 (got 0)"},
		{"N(0,1e400)", 4, "number 1e400 is out of the range of float64"},
		{"N(0,1e)", 6, `malformed number "1e": expected the digits of the exponent`},
		{"N(1.2.3,1)", 5, `malformed number "1.2.3"`},
		{"N(0x10,1)", 3, `malformed number "0x10"`},
		{"N(inf,1)", 2, `expected a number for the mean mu of N(mu, sd), found "inf"`},
		{"U(1,0)", 4, "U(a, b) needs a < b (got a=1, b=0)"},
		{"U(1,1)", 4, "U(a, b) needs a < b"},
		{"U(-1e308,1e308)", 9, "finite width"},
		{"Laplace(0,0)", 10, "scale b must be finite and > 0 (got 0)"},
		{"N2(0,0)", 6, "too few arguments: N2(mx, my, sd) takes 3"},
		{"N2(0,0,-2)", 7, "N2(mx, my, sd): sd must be finite and > 0 (got -2)"},
		{"ring()", 5, "expected the number of modes k (a whole number from 1 to 1000) as the first argument of ring"},
		{"ring(0)", 5, "0 is not a whole number from 1 to 1000"},
		{"ring(2.5)", 5, "2.5 is not a whole number"},
		{"ring(1001)", 5, "not a whole number from 1 to 1000"},
		{"ring(8, sd=)", 11, "expected a number after 'sd=', found ')'"},
		{"ring(8, r=2, r=3)", 13, `keyword "r" given twice`},
		{"ring(8, spacing=2)", 8, `unknown keyword "spacing" for ring; expected r= or sd=`},
		{"ring(8, r 2)", 10, `expected '=' after "r", found number 2`},
		{"ring(8, 2)", 8, "expected a keyword argument (r= or sd=) after ','"},
		{"ring(8 r=2)", 7, "expected ',' or ')' in ring(k, r=R, sd=S)"},
		{"ring(8, r=-1)", 10, "ring: radius r must be finite and > 0 (got -1)"},
		{"ring(8, sd=0)", 11, "ring: sd must be finite and > 0 (got 0)"},
		{"grid(101)", 5, "from 1 to 100"},
		{"grid(5, r=1)", 8, `unknown keyword "r" for grid; expected spacing= or sd=`},
		{"grid(5, spacing=0)", 16, "grid: spacing must be finite and > 0 (got 0)"},
		{"mix()", 4, "expected the weight of component 1 of mix"},
		{"mix(N(0,1))", 4, `expected the weight of component 1 of mix (a number > 0, written w:D), found "N"`},
		{"mix(1 N(0,1))", 6, "expected ':' after the weight of component 1 of mix"},
		{"mix(0:N(0,1))", 4, "mix: weight of component 1 must be finite and > 0 (got 0)"},
		{"mix(1:N(0,1), -1:N(0,1))", 14, "weight of component 2 must be finite and > 0 (got -1)"},
		{"mix(1:N(0,1), 1:N2(0,0,1))", 16, "mix components have different dimensions: 1 and 2"},
		{"mix(1:ring(3), 1:U(0,1))", 17, "mix components have different dimensions: 2 and 1"},
		{"mix(1:N(0,1),)", 13, "expected the weight of component 2 of mix"},
		{"mix(1:N(0,1) 1:N(0,1))", 13, "expected ',' or ')' after component 1 of mix"},
		{"mix(1:N(0,1)", 12, "expected ',' or ')' after component 1 of mix, found the end of the spec"},
		{"mix(1:Q(0,1))", 6, `unknown distribution "Q"`},
		{"N(0,1) N(0,1)", 7, `unexpected "N" after the end of the distribution`},
		{"N(0,1))", 6, `unexpected ')' after the end of the distribution`},
		{"N(0,1)é", 6, `unexpected 'é' after the end`},
		{strings.Repeat("mix(1:", 101) + "N(0,1)" + strings.Repeat(")", 101), 600, "mix nested more than 100 deep"},
	}
	for _, c := range cases {
		d, err := Parse(c.in)
		if err == nil {
			t.Errorf("Parse(%q) = %v, want an error", c.in, d)
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q): error %T is not a *SyntaxError", c.in, err)
			continue
		}
		if se.Spec != c.in || se.Pos != c.pos || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("Parse(%q): pos %d msg %q; want pos %d msg containing %q", c.in, se.Pos, se.Msg, c.pos, c.msg)
		}
	}
}

func TestSyntaxErrorFormat(t *testing.T) {
	_, err := Parse("ring(8, sd=)")
	want := "bad spec at column 12: expected a number after 'sd=', found ')'\n" +
		"  ring(8, sd=)\n" +
		"             ^"
	if err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
	// Control characters are shown as spaces so the caret stays aligned,
	// and columns count runes, not bytes.
	_, err = Parse("mix(\t1:é)")
	want = "bad spec at column 8: expected a distribution (one of N, U, Laplace, N2, ring, grid, mix), found 'é'\n" +
		"  mix( 1:é)\n" +
		"         ^"
	if err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
	// Out-of-range positions do not panic.
	for _, pos := range []int{-5, 100} {
		_ = (&SyntaxError{Spec: "N(0,1)", Pos: pos, Msg: "x"}).Error()
	}
}

func TestConstructorsValidate(t *testing.T) {
	if _, err := NewNormal(0, 0); err == nil {
		t.Error("NewNormal(0, 0) succeeded")
	}
	if _, err := NewUniform(2, 1); err == nil {
		t.Error("NewUniform(2, 1) succeeded")
	}
	if _, err := NewLaplace(0, -1); err == nil {
		t.Error("NewLaplace(0, -1) succeeded")
	}
	if _, err := NewNormal2(0, 0, 0); err == nil {
		t.Error("NewNormal2 with sd 0 succeeded")
	}
	if _, err := NewRing(0, 1, 1); err == nil {
		t.Error("NewRing(0, ...) succeeded")
	}
	if _, err := NewGrid(3, 0, 1); err == nil {
		t.Error("NewGrid with spacing 0 succeeded")
	}
	n, _ := NewNormal(0, 1)
	n2, _ := NewNormal2(0, 0, 1)
	if _, err := NewMixture(nil, nil); err == nil {
		t.Error("empty mixture succeeded")
	}
	if _, err := NewMixture([]float64{1}, []Dist{n, n2}); err == nil {
		t.Error("mixture with 1 weight for 2 components succeeded")
	}
	if _, err := NewMixture([]float64{1, 1}, []Dist{n, n2}); err == nil ||
		!strings.Contains(err.Error(), "different dimensions: 1 and 2") {
		t.Errorf("mixed dimensions: %v", err)
	}
	if _, err := NewMixture([]float64{1, 0}, []Dist{n, n}); err == nil {
		t.Error("zero weight succeeded")
	}
	if _, err := NewMixture([]float64{1}, []Dist{nil}); err == nil {
		t.Error("nil component succeeded")
	}
	if m, err := NewMixture([]float64{1e308, 1e308}, []Dist{n, n}); err != nil {
		t.Errorf("huge weights: %v", err)
	} else if _, w := m.Component(1); w != 0.5 {
		t.Errorf("huge weights normalise to %v, want 0.5", w)
	}
}
