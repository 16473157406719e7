package dist

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SyntaxError reports a spec that Parse cannot read: Pos is the byte
// offset in Spec where the trouble is and Msg says what was expected.
type SyntaxError struct {
	Spec string // the spec given to Parse
	Pos  int    // byte offset of the trouble in Spec
	Msg  string // what was expected, or what is wrong
}

// Error shows the message, then the spec with a caret under the position:
//
//	dist: bad spec at column 12: expected a number after 'sd=', found ')'
//	  ring(8, sd=)
//	             ^
func (e *SyntaxError) Error() string {
	pos := min(max(e.Pos, 0), len(e.Spec))
	col := utf8.RuneCountInString(e.Spec[:pos])
	line := strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError:
			return '?'
		case unicode.IsControl(r):
			return ' '
		}
		return r
	}, e.Spec)
	return fmt.Sprintf("bad spec at column %d: %s\n  %s\n  %s^",
		col+1, e.Msg, line, strings.Repeat(" ", col))
}

// distNames lists the distributions Parse knows, for error messages.
const distNames = "N, U, Laplace, N2, ring, grid, mix"

// maxDepth bounds the nesting of mix inside mix.
const maxDepth = 100

// Parse reads a distribution spec such as
//
//	N(0, 1)
//	mix(0.3:N(-2, 0.5), 0.7:Laplace(1, 0.3))
//	ring(8, r=2, sd=0.02)
//	grid(5)
//
// Whitespace between tokens is free; numbers are decimal (1, -2.5, 1e-3,
// .5, +3, 2.5E+10). The grammar, with every distribution's parameters and
// defaults, is in docs/distributions.md. On failure the error is a
// *SyntaxError that points at the offending position.
func Parse(spec string) (Dist, error) {
	p := &parser{s: spec}
	d, err := p.dist()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(p.s) {
		return nil, p.errf(p.pos, "unexpected %s after the end of the distribution", p.found())
	}
	return d, nil
}

// MustParse is like Parse but panics on error. It is meant for package
// level variables and tests whose spec is a constant.
func MustParse(spec string) Dist {
	d, err := Parse(spec)
	if err != nil {
		panic(err)
	}
	return d
}

type parser struct {
	s     string
	pos   int
	depth int
}

func (p *parser) errf(pos int, format string, a ...any) *SyntaxError {
	return &SyntaxError{Spec: p.s, Pos: pos, Msg: fmt.Sprintf(format, a...)}
}

func (p *parser) space() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (p *parser) peek() byte {
	p.space()
	if p.pos >= len(p.s) {
		return 0
	}
	return p.s[p.pos]
}

// found describes what is at the current position, for "expected X,
// found Y" messages.
func (p *parser) found() string {
	p.space()
	if p.pos >= len(p.s) {
		return "the end of the spec"
	}
	if id := identAt(p.s, p.pos); id != "" {
		return strconv.Quote(id)
	}
	if n := numberAt(p.s, p.pos); n != "" {
		return "number " + n
	}
	r, _ := utf8.DecodeRuneInString(p.s[p.pos:])
	return strconv.QuoteRune(r)
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// identAt returns the identifier ([A-Za-z_][A-Za-z0-9_]*) at s[i:], or "".
func identAt(s string, i int) string {
	if i >= len(s) || !isLetter(s[i]) {
		return ""
	}
	j := i + 1
	for j < len(s) && (isLetter(s[j]) || isDigit(s[j])) {
		j++
	}
	return s[i:j]
}

// numberAt returns the longest run of number-like bytes at s[i:], for
// messages, or "" if s[i] cannot start a number.
func numberAt(s string, i int) string {
	if i >= len(s) || !(isDigit(s[i]) || s[i] == '.' || s[i] == '-' || s[i] == '+') {
		return ""
	}
	j := i + 1
	for j < len(s) && (isDigit(s[j]) || isLetter(s[j]) || s[j] == '.' ||
		(s[j] == '-' || s[j] == '+') && (s[j-1] == 'e' || s[j-1] == 'E')) {
		j++
	}
	return s[i:j]
}

// ident reads an identifier, returning it and its position ("" if none).
func (p *parser) ident() (string, int) {
	p.space()
	id := identAt(p.s, p.pos)
	start := p.pos
	p.pos += len(id)
	return id, start
}

// number reads a decimal number:
//
//	[+-] (digits [. [digits]] | . digits) [(e|E) [+-] digits]
//
// expect is the message used when there is no number here.
func (p *parser) number(expect string) (float64, int, error) {
	p.space()
	s, start := p.s, p.pos
	i, digits := start, 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, start, p.errf(start, "%s, found %s", expect, p.found())
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		exp := 0
		for j < len(s) && isDigit(s[j]) {
			j++
			exp++
		}
		if exp == 0 {
			return 0, start, p.errf(j, "malformed number %q: expected the digits of the exponent after %q",
				numberAt(s, start), s[i:j])
		}
		i = j
	}
	if i < len(s) && (isLetter(s[i]) || isDigit(s[i]) || s[i] == '.') {
		return 0, start, p.errf(i, "malformed number %q: unexpected %q", numberAt(s, start), s[i])
	}
	v, err := strconv.ParseFloat(s[start:i], 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, start, p.errf(start, "number %s is out of the range of float64", s[start:i])
	}
	p.pos = i
	return v + 0, start, nil // + 0 turns -0 into 0
}

// integer reads a number that must be a whole number in [lo, hi].
func (p *parser) integer(expect string, lo, hi int) (int, int, error) {
	v, pos, err := p.number(expect)
	if err != nil {
		return 0, pos, err
	}
	if v != math.Trunc(v) || v < float64(lo) || v > float64(hi) {
		return 0, pos, p.errf(pos, "%s; %s is not a whole number from %d to %d", expect, fmtNum(v), lo, hi)
	}
	return int(v), pos, nil
}

// expect consumes the byte c or fails with "expected ... , found ...".
func (p *parser) expect(c byte, what string) error {
	if p.peek() != c {
		return p.errf(p.pos, "%s, found %s", what, p.found())
	}
	p.pos++
	return nil
}

// dist reads one distribution.
func (p *parser) dist() (Dist, error) {
	name, start := p.ident()
	if name == "" {
		return nil, p.errf(p.pos, "expected a distribution (one of %s), found %s", distNames, p.found())
	}
	switch name {
	case "N":
		v, pos, err := p.positional("N", "N(mu, sd)", []string{"the mean mu", "the standard deviation sd"})
		if err != nil {
			return nil, err
		}
		if e := checkNormal(v[0], v[1]); e != nil {
			return nil, p.errf(pos[e.arg], "N(mu, sd): %s", e.msg)
		}
		d, _ := NewNormal(v[0], v[1])
		return d, nil
	case "U":
		v, pos, err := p.positional("U", "U(a, b)", []string{"the lower end a", "the upper end b"})
		if err != nil {
			return nil, err
		}
		if e := checkUniform(v[0], v[1]); e != nil {
			return nil, p.errf(pos[e.arg], "%s", e.msg)
		}
		d, _ := NewUniform(v[0], v[1])
		return d, nil
	case "Laplace":
		v, pos, err := p.positional("Laplace", "Laplace(mu, b)", []string{"the location mu", "the scale b"})
		if err != nil {
			return nil, err
		}
		if e := checkLaplace(v[0], v[1]); e != nil {
			return nil, p.errf(pos[e.arg], "Laplace(mu, b): %s", e.msg)
		}
		d, _ := NewLaplace(v[0], v[1])
		return d, nil
	case "N2":
		v, pos, err := p.positional("N2", "N2(mx, my, sd)", []string{"the mean mx", "the mean my", "the standard deviation sd"})
		if err != nil {
			return nil, err
		}
		d, err := NewNormal2(v[0], v[1], v[2])
		if err != nil {
			var ae *argError
			errors.As(err, &ae)
			return nil, p.errf(pos[ae.arg], "N2(mx, my, sd): %s", ae.msg)
		}
		return d, nil
	case "ring":
		k, v, pos, err := p.keyed("ring", "ring(k, r=R, sd=S)", MaxRingModes,
			[]string{"r", "sd"}, []float64{DefaultRingRadius, DefaultRingSD})
		if err != nil {
			return nil, err
		}
		if e := checkRing(k, v[0], v[1]); e != nil {
			return nil, p.errf(pos[e.arg], "ring: %s", e.msg)
		}
		d, _ := NewRing(k, v[0], v[1])
		return d, nil
	case "grid":
		k, v, pos, err := p.keyed("grid", "grid(k, spacing=S, sd=SD)", MaxGridSide,
			[]string{"spacing", "sd"}, []float64{DefaultGridSpacing, DefaultGridSD})
		if err != nil {
			return nil, err
		}
		if e := checkGrid(k, v[0], v[1]); e != nil {
			return nil, p.errf(pos[e.arg], "grid: %s", e.msg)
		}
		d, _ := NewGrid(k, v[0], v[1])
		return d, nil
	case "mix":
		return p.mix(start)
	}
	return nil, p.errf(start, "unknown distribution %q; expected one of %s", name, distNames)
}

// positional reads "(v1, v2, ...)" with exactly len(params) numbers.
func (p *parser) positional(name, sig string, params []string) ([]float64, []int, error) {
	if err := p.expect('(', fmt.Sprintf("expected '(' after %q (%s)", name, sig)); err != nil {
		return nil, nil, err
	}
	vals := make([]float64, len(params))
	pos := make([]int, len(params))
	for i, prm := range params {
		v, at, err := p.number(fmt.Sprintf("expected a number for %s of %s", prm, sig))
		if err != nil {
			return nil, nil, err
		}
		vals[i], pos[i] = v, at
		c := p.peek()
		switch {
		case i < len(params)-1 && c == ',':
			p.pos++
		case i < len(params)-1 && c == ')':
			return nil, nil, p.errf(p.pos, "too few arguments: %s takes %d; expected ',' and %s",
				sig, len(params), params[i+1])
		case i < len(params)-1:
			return nil, nil, p.errf(p.pos, "expected ',' after %s in %s, found %s", prm, sig, p.found())
		case c == ')':
			p.pos++
		case c == ',':
			return nil, nil, p.errf(p.pos, "too many arguments: %s takes %d; expected ')'", sig, len(params))
		default:
			return nil, nil, p.errf(p.pos, "expected ')' to close %s, found %s", sig, p.found())
		}
	}
	return vals, pos, nil
}

// keyed reads "(k, key=v, ...)" for ring and grid: a whole number k in
// [1, maxK], then any of keys in any order, each at most once, defaulting
// to defs. pos[0] is the position of k, pos[1+i] that of keys[i] (or of k
// for a default).
func (p *parser) keyed(name, sig string, maxK int, keys []string, defs []float64) (int, []float64, []int, error) {
	if err := p.expect('(', fmt.Sprintf("expected '(' after %q (%s)", name, sig)); err != nil {
		return 0, nil, nil, err
	}
	k, kpos, err := p.integer(fmt.Sprintf("expected the number of modes k (a whole number from 1 to %d) as the first argument of %s", maxK, sig), 1, maxK)
	if err != nil {
		return 0, nil, nil, err
	}
	vals := append([]float64(nil), defs...)
	pos := make([]int, len(keys)+1)
	for i := range pos {
		pos[i] = kpos
	}
	seen := make([]bool, len(keys))
	keyList := strings.Join(keys, "= or ") + "="
	for {
		switch c := p.peek(); c {
		case ')':
			p.pos++
			return k, vals, pos, nil
		case ',':
			p.pos++
		default:
			return 0, nil, nil, p.errf(p.pos, "expected ',' or ')' in %s, found %s", sig, p.found())
		}
		key, kp := p.ident()
		if key == "" {
			return 0, nil, nil, p.errf(p.pos, "expected a keyword argument (%s) after ',' in %s, found %s", keyList, sig, p.found())
		}
		idx := -1
		for i, kk := range keys {
			if kk == key {
				idx = i
			}
		}
		if idx < 0 {
			return 0, nil, nil, p.errf(kp, "unknown keyword %q for %s; expected %s", key, name, keyList)
		}
		if seen[idx] {
			return 0, nil, nil, p.errf(kp, "keyword %q given twice in %s", key, sig)
		}
		seen[idx] = true
		if err := p.expect('=', fmt.Sprintf("expected '=' after %q", key)); err != nil {
			return 0, nil, nil, err
		}
		v, vp, err := p.number(fmt.Sprintf("expected a number after '%s='", key))
		if err != nil {
			return 0, nil, nil, err
		}
		vals[idx], pos[idx+1] = v, vp
	}
}

// mix reads "(w1:D1, w2:D2, ...)" after the name "mix" at start.
func (p *parser) mix(start int) (Dist, error) {
	if p.depth >= maxDepth {
		return nil, p.errf(start, "mix nested more than %d deep", maxDepth)
	}
	p.depth++
	defer func() { p.depth-- }()
	if err := p.expect('(', "expected '(' after \"mix\" (mix(w1:D1, w2:D2, ...))"); err != nil {
		return nil, err
	}
	var weights []float64
	var comps []Dist
	for {
		n := len(comps) + 1
		w, wpos, err := p.number(fmt.Sprintf("expected the weight of component %d of mix (a number > 0, written w:D)", n))
		if err != nil {
			return nil, err
		}
		if e := checkWeight(n-1, w); e != nil {
			return nil, p.errf(wpos, "mix: %s", e.msg)
		}
		if err := p.expect(':', fmt.Sprintf("expected ':' after the weight of component %d of mix", n)); err != nil {
			return nil, err
		}
		p.space()
		cpos := p.pos
		c, err := p.dist()
		if err != nil {
			return nil, err
		}
		if len(comps) > 0 && c.Dim() != comps[0].Dim() {
			return nil, p.errf(cpos, "mix components have different dimensions: %d and %d", comps[0].Dim(), c.Dim())
		}
		weights = append(weights, w)
		comps = append(comps, c)
		switch c := p.peek(); c {
		case ')':
			p.pos++
			return newMixture(weights, comps), nil
		case ',':
			p.pos++
		default:
			return nil, p.errf(p.pos, "expected ',' or ')' after component %d of mix, found %s", n, p.found())
		}
	}
}
