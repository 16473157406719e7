package arch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/tensor"
	"go.yaml.in/yaml/v3"
)

// Kind is what one sample of the data is.
type Kind string

// The kinds of data.
const (
	// Points are vectors of Dim numbers (the toy distributions, 1-D and 2-D).
	Points Kind = "points"
	// Images are Height×Width×Channels pixels in [-1, 1], channel-last.
	Images Kind = "images"
)

// Data describes the samples a model is built for: what an architecture
// needs to know of the data to size G's output and D's input, and what a
// generator file records so that its samples can be used without the data.
type Data struct {
	Kind Kind `json:"kind"`
	// Dim is the number of values in one sample (Height·Width·Channels for
	// images).
	Dim int `json:"dim"`
	// Height, Width and Channels of images (0 for points).
	Height   int `json:"height,omitempty"`
	Width    int `json:"width,omitempty"`
	Channels int `json:"channels,omitempty"`
	// Classes names the data's classes, when it has labels (nil otherwise).
	Classes []string `json:"classes,omitempty"`
}

// PointData describes dim-dimensional points.
func PointData(dim int) Data { return Data{Kind: Points, Dim: dim} }

// ImageData describes h×w images with c channels.
func ImageData(h, w, c int, classes []string) Data {
	return Data{Kind: Images, Dim: h * w * c, Height: h, Width: w, Channels: c, Classes: classes}
}

// String describes the data in a few words ("2-D points", "28x28x1 images").
func (d Data) String() string {
	if d.Kind == Images {
		return fmt.Sprintf("%dx%dx%d images", d.Height, d.Width, d.Channels)
	}
	return fmt.Sprintf("%d-D points", d.Dim)
}

// Validate checks that the description is consistent.
func (d Data) Validate() error {
	switch d.Kind {
	case Points:
		if d.Dim < 1 || d.Dim > MaxPointDim {
			return fmt.Errorf("points of dimension %d (1 to %d)", d.Dim, MaxPointDim)
		}
	case Images:
		if d.Height < 1 || d.Width < 1 || d.Channels < 1 || d.Height > MaxSide || d.Width > MaxSide || d.Channels > 4 ||
			d.Dim != d.Height*d.Width*d.Channels {
			return fmt.Errorf("images of %dx%dx%d with %d values each (at most %dx%d pixels of 1 to 4 channels)", d.Height, d.Width, d.Channels, d.Dim, MaxSide, MaxSide)
		}
	default:
		return fmt.Errorf("data of kind %q (want points or images)", d.Kind)
	}
	if len(d.Classes) > MaxClasses {
		return fmt.Errorf("%d classes; at most %d", len(d.Classes), MaxClasses)
	}
	return nil
}

// Bounds on what an architecture is built for. They are far beyond what
// minmax trains, and keep sizes read from a file (a generator file's
// metadata) from asking for more memory than a machine has.
const (
	// MaxLatent is the largest latent size.
	MaxLatent = 1 << 16
	// MaxClasses is the most classes of a data set.
	MaxClasses = 1 << 16
	// MaxSide is the largest image side.
	MaxSide = 1 << 12
	// MaxPointDim is the largest dimension of points.
	MaxPointDim = 1 << 16
	// MaxWidth is the largest width option of a convolutional architecture.
	MaxWidth = 1 << 10
)

// Spec is a registered architecture: its name, what it is, its options
// and how to build its generator and discriminator. Architectures register
// themselves (Register) from their own file; nothing else in minmax names
// them.
type Spec struct {
	Name string
	// Doc says in one line what the architecture is.
	Doc string
	// Kind is the data the architecture models.
	Kind        Kind
	optType     reflect.Type // the options struct
	defaults    func() any   // a pointer to a fresh options struct
	conditional func(opts any, d Data) bool
	check       func(opts any, d Data) error
	newG        func(opts any, latent int, d Data, rng *tensor.RNG) (nn.Module, error)
	newD        func(opts any, d Data, rng *tensor.RNG) (nn.Module, error)
}

// Builder is what an architecture's file gives Register: its options
// struct O (exported fields with yaml tags and a help tag each), the
// defaults, the check of options against data, and the constructors of G
// and D. G is always built before D from the same random source, so a
// seed gives the same initial weights every time.
type Builder[O any] struct {
	Name, Doc string
	Kind      Kind
	// Conditional, when set, says whether the options make a
	// class-conditional model of data d (G and D read nn.Ctx.Labels),
	// which needs labelled data; nil means never.
	Conditional func(o *O, d Data) bool
	Defaults    O
	// Check reports why the architecture with these options cannot model
	// the data (nil if it can). Errors about an option should start with
	// its YAML key.
	Check func(o *O, d Data) error
	G     func(o *O, latent int, d Data, rng *tensor.RNG) (nn.Module, error)
	D     func(o *O, d Data, rng *tensor.RNG) (nn.Module, error)
}

var registry = map[string]*Spec{}

// Register adds an architecture; it is meant for init functions, and a
// name registered twice is a programming error (it panics at start-up).
func Register[O any](b Builder[O]) {
	if _, dup := registry[b.Name]; dup || b.Name == "" || b.G == nil || b.D == nil || b.Check == nil || (b.Kind != Points && b.Kind != Images) {
		panic(fmt.Sprintf("bad or duplicate registration of %q", b.Name))
	}
	var zero O
	if reflect.TypeOf(zero).Kind() != reflect.Struct {
		panic(fmt.Sprintf("the options of %q must be a struct", b.Name))
	}
	def := b.Defaults
	registry[b.Name] = &Spec{
		Name: b.Name, Doc: b.Doc, Kind: b.Kind,
		conditional: func(o any, d Data) bool { return b.Conditional != nil && b.Conditional(o.(*O), d) },
		optType:     reflect.TypeOf(zero),
		defaults:    func() any { return deepCopy(&def) },
		check:       func(o any, d Data) error { return b.Check(o.(*O), d) },
		newG: func(o any, latent int, d Data, rng *tensor.RNG) (nn.Module, error) {
			return b.G(o.(*O), latent, d, rng)
		},
		newD: func(o any, d Data, rng *tensor.RNG) (nn.Module, error) { return b.D(o.(*O), d, rng) },
	}
}

// deepCopy returns a copy of *o that shares no slices with it.
func deepCopy[O any](o *O) *O {
	out := *o
	if y, err := yaml.Marshal(o); err == nil {
		var c O
		if yaml.Unmarshal(y, &c) == nil {
			out = c
		}
	}
	return &out
}

// Names lists the registered architectures, sorted.
func Names() []string {
	out := make([]string, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ForKind lists the architectures that model data of kind k, sorted.
func ForKind(k Kind) []string {
	var out []string
	for _, n := range Names() {
		if registry[n].Kind == k {
			out = append(out, n)
		}
	}
	return out
}

// joinOr writes "a", "a or b", "a, b or c".
func joinOr(s []string) string {
	switch len(s) {
	case 0:
		return "(none registered)"
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// Lookup returns the named architecture, or an error listing them.
func Lookup(name string) (*Spec, error) {
	if s, ok := registry[name]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("%q is not an architecture; want one of %s", name, strings.Join(Names(), ", "))
}

// IsConditional reports whether the architecture with options opts is
// class-conditional on data d: G and D read the labels of nn.Ctx, and the
// data must have classes.
func (s *Spec) IsConditional(opts any, d Data) bool {
	return s.ownOptions(opts) == nil && s.conditional(opts, d)
}

// Defaults returns a fresh options value of the architecture (a pointer to
// its options struct) holding the defaults.
func (s *Spec) Defaults() any { return s.defaults() }

// Check reports why the architecture with options opts (from Defaults or
// DecodeOptions) cannot model data d, or nil if it can.
func (s *Spec) Check(opts any, d Data) error {
	if err := s.ownOptions(opts); err != nil {
		return err
	}
	if err := d.Validate(); err != nil {
		return fmt.Errorf("the %s architecture: %v", s.Name, err)
	}
	if d.Kind != s.Kind {
		return fmt.Errorf("the %s architecture models %s, not %s; for %s use %s", s.Name, s.Kind, d, d.Kind, joinOr(ForKind(d.Kind)))
	}
	if s.conditional(opts, d) && len(d.Classes) < 2 {
		return fmt.Errorf("conditional: the %s architecture is class-conditional here and needs labelled data with at least two classes (%s has none); set conditional: false", s.Name, d)
	}
	return s.check(opts, d)
}

func (s *Spec) ownOptions(opts any) error {
	if reflect.TypeOf(opts) != reflect.PointerTo(s.optType) {
		return fmt.Errorf("options of type %T given to the %s architecture (want *%v)", opts, s.Name, s.optType)
	}
	return nil
}

// Build checks the options against the data, builds G and then D from rng
// and names them "G" and "D" (nn.Root).
func (s *Spec) Build(opts any, latent int, d Data, rng *tensor.RNG) (g, dis nn.Module, err error) {
	if g, err = s.BuildG(opts, latent, d, rng); err != nil {
		return nil, nil, err
	}
	if dis, err = s.newD(opts, d, rng); err != nil {
		return nil, nil, err
	}
	if err := nn.Root(dis, "D"); err != nil {
		return nil, nil, err
	}
	return g, dis, nil
}

// BuildG checks the options against the data and builds G alone, named
// "G": what a generator file needs.
func (s *Spec) BuildG(opts any, latent int, d Data, rng *tensor.RNG) (nn.Module, error) {
	if err := s.Check(opts, d); err != nil {
		return nil, err
	}
	if latent < 1 || latent > MaxLatent {
		return nil, fmt.Errorf("latent size %d: want 1 to %d", latent, MaxLatent)
	}
	g, err := s.newG(opts, latent, d, rng)
	if err != nil {
		return nil, err
	}
	if err := nn.Root(g, "G"); err != nil {
		return nil, err
	}
	return g, nil
}

// Option describes one option of an architecture.
type Option struct {
	Key     string // the YAML key
	Type    string // "int", "bool", "[]int", ...
	Default string
	Help    string
}

// Options lists the architecture's options with their defaults and help,
// in the order of the options struct.
func (s *Spec) Options() []Option {
	def := reflect.ValueOf(s.defaults()).Elem()
	var out []Option
	for i := range s.optType.NumField() {
		f := s.optType.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		var n yaml.Node
		if err := n.Encode(def.Field(i).Interface()); err != nil {
			continue
		}
		if n.Kind == yaml.SequenceNode {
			n.Style = yaml.FlowStyle
		}
		b, _ := yaml.Marshal(&n)
		out = append(out, Option{Key: key, Type: f.Type.String(), Default: strings.TrimSpace(string(b)), Help: f.Tag.Get("help")})
	}
	return out
}

// HasOption reports whether the architecture has an option of that key.
func (s *Spec) HasOption(key string) bool {
	return slices.ContainsFunc(s.Options(), func(o Option) bool { return o.Key == key })
}

// OptionKeys lists the keys of Options.
func (s *Spec) OptionKeys() []string {
	var out []string
	for _, o := range s.Options() {
		out = append(out, o.Key)
	}
	return out
}

// DecodeOptions reads options from YAML (a mapping of option keys) on top
// of the defaults; an unknown key is an error naming it and the known ones.
func (s *Spec) DecodeOptions(y []byte) (any, error) {
	opts := s.defaults()
	if len(bytes.TrimSpace(y)) == 0 {
		return opts, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(y))
	dec.KnownFields(true)
	if err := dec.Decode(opts); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("options of the %s architecture (%s): %w", s.Name, strings.Join(s.OptionKeys(), ", "), err)
	}
	return opts, nil
}

// EncodeOptions writes options as a YAML mapping.
func (s *Spec) EncodeOptions(opts any) ([]byte, error) {
	if err := s.ownOptions(opts); err != nil {
		return nil, err
	}
	return yaml.Marshal(opts)
}

// OptionsJSON writes options as a JSON object (for file metadata), keyed
// as in YAML.
func (s *Spec) OptionsJSON(opts any) (string, error) {
	y, err := s.EncodeOptions(opts)
	if err != nil {
		return "", err
	}
	var m map[string]any
	if err := yaml.Unmarshal(y, &m); err != nil {
		return "", err
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// OptionsFromJSON reads options written by OptionsJSON.
func (s *Spec) OptionsFromJSON(j string) (any, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(j), &m); err != nil {
		return nil, fmt.Errorf("options of the %s architecture: %w", s.Name, err)
	}
	y, err := yaml.Marshal(m)
	if err != nil {
		return nil, err
	}
	return s.DecodeOptions(y)
}

// SquarePlan is the size plan of the image architectures that grow a
// start×start map by factors of two: 7 and 2 doublings for 28 pixels, 4
// and 3 for 32, 4 and 4 for 64. name is the architecture, for messages.
func SquarePlan(name string, d Data) (start, doublings int, err error) {
	if d.Height != d.Width {
		return 0, 0, fmt.Errorf("the %s architecture needs square images, got %s", name, d)
	}
	switch d.Height {
	case 28:
		return 7, 2, nil
	case 32:
		return 4, 3, nil
	case 64:
		return 4, 4, nil
	}
	return 0, 0, fmt.Errorf("the %s architecture takes 28, 32 or 64 pixels, got %s (image_size scales a folder of images)", name, d)
}
