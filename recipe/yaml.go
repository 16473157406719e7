package recipe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Parse reads a recipe from YAML on top of base: the keys given replace
// base's values, the others are kept. It reads both the sectioned layout
// (data, model, loss, optim, run) and the flat config.yaml of minmax 0.1.
// Errors name the key ("optim.g.lr: want a number, got \"fast\"") and, for
// YAML syntax, the line. The result is validated.
func Parse(y []byte, base Recipe) (Recipe, error) {
	r, err := parse(y, base)
	if err != nil {
		return r, err
	}
	return r, r.Validate()
}

func parse(y []byte, base Recipe) (Recipe, error) {
	r := base.Clone()
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(y))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return r, nil
		}
		return r, fmt.Errorf("not valid YAML: %w", err)
	}
	root := resolve(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = resolve(root.Content[0])
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return r, nil
	}
	if root.Kind != yaml.MappingNode {
		return r, fmt.Errorf("line %d: a recipe is a mapping of sections (data, model, loss, optim, run), not %s", root.Line, describe(root))
	}
	if isLegacy(root) {
		return parseLegacy(root, r)
	}
	if err := decodeStruct(root, reflect.ValueOf(&r).Elem(), ""); err != nil {
		return r, err
	}
	// A file that counts steps replaces a base that counts epochs, as
	// --steps does: otherwise the base's epochs would silently win.
	if hasKey(root, "optim", "steps") && !hasKey(root, "optim", "epochs") {
		r.Optim.Epochs = 0
	}
	return r, nil
}

// hasKey reports whether the mapping n holds the nested key path.
func hasKey(n *yaml.Node, path ...string) bool {
	for _, k := range path {
		n = resolve(n)
		if n == nil || n.Kind != yaml.MappingNode {
			return false
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if resolve(n.Content[i]).Value == k {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return false
		}
		n = next
	}
	return true
}

// resolve follows YAML aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// describe says what a node holds, for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// yamlKey is the YAML key of a struct field ("" when it has none).
func yamlKey(f reflect.StructField) string {
	k, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if k == "-" {
		return ""
	}
	return k
}

// keysOf lists the YAML keys of a struct type, in order.
func keysOf(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if k := yamlKey(t.Field(i)); k != "" {
			out = append(out, k)
		}
	}
	if t == reflect.TypeOf(Model{}) {
		out = []string{"arch", "latent", "(the architecture's options)"}
	}
	return out
}

// field returns the field of struct v with YAML key k.
func field(v reflect.Value, k string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		if yamlKey(t.Field(i)) == k {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

var modelType = reflect.TypeOf(Model{})

// decodeStruct decodes mapping n into struct v field by field, so that
// each error names its key (prefix.key).
func decodeStruct(n *yaml.Node, v reflect.Value, prefix string) error {
	n = resolve(n)
	if v.Type() == modelType {
		return decodeModel(n, v.Addr().Interface().(*Model), prefix)
	}
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return nil
		}
		return bad(prefix, "want a mapping of %s, got %s (line %d)", strings.Join(keysOf(v.Type()), ", "), describe(n), n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i].Value, n.Content[i+1]
		f, ok := field(v, k)
		if !ok {
			return bad(join(prefix, k), "not a setting (line %d); %s holds %s", n.Content[i].Line, orTop(prefix), strings.Join(keysOf(v.Type()), ", "))
		}
		if err := decodeValue(val, f, join(prefix, k)); err != nil {
			return err
		}
	}
	return nil
}

func orTop(prefix string) string {
	if prefix == "" {
		return "a recipe"
	}
	return prefix
}

// decodeValue decodes n into v (a struct field or an option).
func decodeValue(n *yaml.Node, v reflect.Value, key string) error {
	n = resolve(n)
	if v.Kind() == reflect.Struct {
		return decodeStruct(n, v, key)
	}
	target := reflect.New(v.Type())
	if !tagFits(n, v.Type()) {
		return bad(key, "want %s, got %s (line %d)", kindName(v.Type()), describe(n), n.Line)
	}
	if err := n.Decode(target.Interface()); err != nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null" && v.Kind() != reflect.Slice) {
		return bad(key, "want %s, got %s (line %d)", kindName(v.Type()), describe(n), n.Line)
	}
	v.Set(target.Elem())
	return nil
}

// tagFits refuses scalars that YAML would convert silently into a
// narrower type (1.5 into a whole number).
func tagFits(n *yaml.Node, t reflect.Type) bool {
	if n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice {
		for _, c := range n.Content {
			if !tagFits(resolve(c), t.Elem()) {
				return false
			}
		}
		return true
	}
	if n.Kind != yaml.ScalarNode {
		return true
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint64, reflect.Uint, reflect.Uint32:
		return n.Tag == "!!int"
	case reflect.Float64, reflect.Float32:
		return n.Tag == "!!int" || n.Tag == "!!float"
	case reflect.Bool:
		return n.Tag == "!!bool"
	}
	return true
}

// kindName says in words what a value of type t is.
func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "a whole number"
	case reflect.Uint64, reflect.Uint, reflect.Uint32:
		return "a whole number >= 0"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "text"
	case reflect.Slice:
		return "a list of " + strings.TrimPrefix(kindName(t.Elem()), "a ") + "s"
	}
	return t.String()
}

// decodeModel decodes the model section: arch first (a new architecture
// starts from its defaults), then latent, then the architecture's options.
func decodeModel(n *yaml.Node, m *Model, prefix string) error {
	if n.Kind != yaml.MappingNode {
		return bad(prefix, "want a mapping of arch, latent and the architecture's options, got %s (line %d)", describe(n), n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "arch" {
			v := resolve(n.Content[i+1])
			if v.Kind != yaml.ScalarNode {
				return bad(join(prefix, "arch"), "want an architecture name, got %s (line %d)", describe(v), v.Line)
			}
			if err := m.SetArch(v.Value); err != nil {
				return bad(join(prefix, "arch"), "%v", err)
			}
		}
	}
	spec, err := m.Spec()
	if err != nil {
		return bad(join(prefix, "arch"), "%v", err)
	}
	if m.Options == nil {
		m.Options = spec.Defaults()
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i].Value, n.Content[i+1]
		switch k {
		case "arch":
		case "latent":
			if err := decodeValue(val, reflect.ValueOf(&m.Latent).Elem(), join(prefix, k)); err != nil {
				return err
			}
		default:
			f, ok := field(reflect.ValueOf(m.Options).Elem(), k)
			if !ok {
				return bad(join(prefix, k), "the %s architecture has no option %q (line %d); its options: %s", m.Arch, k, n.Content[i].Line, strings.Join(spec.OptionKeys(), ", "))
			}
			if err := decodeValue(val, f, join(prefix, k)); err != nil {
				return err
			}
		}
	}
	return nil
}

// MarshalYAML writes the model as one mapping: arch, latent, then the
// architecture's options.
func (m Model) MarshalYAML() (any, error) {
	out := &yaml.Node{Kind: yaml.MappingNode}
	add := func(k string, v any) error {
		var vn yaml.Node
		if err := vn.Encode(v); err != nil {
			return err
		}
		out.Content = append(out.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, &vn)
		return nil
	}
	if err := add("arch", m.Arch); err != nil {
		return nil, err
	}
	if err := add("latent", m.Latent); err != nil {
		return nil, err
	}
	if m.Options != nil {
		var on yaml.Node
		if err := on.Encode(m.Options); err != nil {
			return nil, err
		}
		if on.Kind == yaml.MappingNode {
			flowLists(&on)
			out.Content = append(out.Content, on.Content...)
		}
	}
	return out, nil
}

// UnmarshalYAML reads the model section (see decodeModel).
func (m *Model) UnmarshalYAML(n *yaml.Node) error { return decodeModel(n, m, "model") }

// Marshal writes the recipe as YAML (what a run saves as config.yaml).
func (r Recipe) Marshal() ([]byte, error) { return yaml.Marshal(r) }

// Set overrides one setting, named by its key ("optim.g.lr",
// "model.width", "data.source"), with a value written as on the command
// line. Text settings take value as it is; others read it as YAML ("2e-4",
// "[64, 64]", "true"). Setting model.arch resets the options to the new
// architecture's defaults. The recipe is not validated.
func (r *Recipe) Set(key, value string) error {
	if key == "model.arch" {
		if err := r.Model.SetArch(value); err != nil {
			return bad(key, "%v", err)
		}
		return nil
	}
	v, err := r.target(key)
	if err != nil {
		return err
	}
	return setLeaf(v, key, value)
}

func setLeaf(v reflect.Value, key, value string) error {
	if v.Kind() == reflect.String {
		v.SetString(value)
		return nil
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(value), &n); err != nil || len(n.Content) == 0 {
		return bad(key, "want %s, got %q", kindName(v.Type()), value)
	}
	err := decodeValue(n.Content[0], v, key)
	var e *Error
	if errors.As(err, &e) {
		e.Msg = strings.TrimSuffix(e.Msg, " (line 1)") // a value, not a file
	}
	return err
}

// Value returns the value of one setting as it would be written on the
// command line ("2e-4", "[64, 64]", "true").
func (r *Recipe) Value(key string) (string, error) {
	if key == "model.arch" {
		return r.Model.Arch, nil
	}
	v, err := r.target(key)
	if err != nil {
		return "", err
	}
	if v.Kind() == reflect.String {
		return v.String(), nil
	}
	var n yaml.Node
	if err := n.Encode(v.Interface()); err != nil {
		return "", err
	}
	flowLists(&n)
	b, err := yaml.Marshal(&n)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// flowLists writes the lists of scalars under n on one line ([128, 128]).
func flowLists(n *yaml.Node) {
	if n.Kind == yaml.SequenceNode {
		flat := true
		for _, c := range n.Content {
			flat = flat && c.Kind == yaml.ScalarNode
		}
		if flat {
			n.Style = yaml.FlowStyle
		}
	}
	for _, c := range n.Content {
		flowLists(c)
	}
}

// Diff lists the keys whose values differ between a and b ("model.width",
// "optim.g.lr"), sorted; a key one of them lacks counts as differing.
func Diff(a, b Recipe) ([]string, error) {
	fa, err := flat(a)
	if err != nil {
		return nil, err
	}
	fb, err := flat(b)
	if err != nil {
		return nil, err
	}
	var out []string
	for k, v := range fa {
		if w, ok := fb[k]; !ok || w != v {
			out = append(out, k)
		}
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out, nil
}

// flat maps every setting of r to its value as YAML text.
func flat(r Recipe) (map[string]string, error) {
	y, err := r.Marshal()
	if err != nil {
		return nil, err
	}
	var n yaml.Node
	if err := yaml.Unmarshal(y, &n); err != nil {
		return nil, err
	}
	out := map[string]string{}
	var walk func(prefix string, n *yaml.Node)
	walk = func(prefix string, n *yaml.Node) {
		n = resolve(n)
		if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
			walk(prefix, n.Content[0])
			return
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(join(prefix, n.Content[i].Value), n.Content[i+1])
			}
			return
		}
		b, _ := yaml.Marshal(n)
		out[prefix] = strings.TrimSpace(string(b))
	}
	walk("", &n)
	return out, nil
}
