package run

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
)

// finiteJSON marshals v as encoding/json does, except that a float that is
// not finite (NaN, ±Inf, which JSON cannot hold) is written as null; it
// returns the JSON paths of those values ("eval.coverage.reverse_kl"), so
// that the run can say which metric it was.
func finiteJSON(v any) ([]byte, []string, error) {
	var bad []string
	t := finiteValue(reflect.ValueOf(v), "", &bad)
	b, err := json.Marshal(t)
	return b, bad, err
}

// finiteValue converts v into plain values (maps, slices, numbers, strings,
// nil) that encoding/json writes as it would v, with non-finite floats
// replaced by nil and their paths appended to bad.
func finiteValue(v reflect.Value, path string, bad *[]string) any {
	if !v.IsValid() {
		return nil
	}
	if m, ok := v.Interface().(json.Marshaler); ok && v.Kind() != reflect.Pointer && v.Kind() != reflect.Struct {
		return m
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return finiteValue(v.Elem(), path, bad)
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			*bad = append(*bad, path)
			return nil
		}
		return f
	case reflect.Struct:
		out := map[string]any{}
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fv := v.Field(i)
			if strings.Contains(opts, "omitempty") && fv.IsZero() {
				continue
			}
			out[name] = finiteValue(fv, joinPath(path, name), bad)
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		out := map[string]any{}
		it := v.MapRange()
		for it.Next() {
			k := it.Key().String()
			out[k] = finiteValue(it.Value(), joinPath(path, k), bad)
		}
		return out
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = finiteValue(v.Index(i), path, bad)
		}
		return out
	}
	return v.Interface()
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}
