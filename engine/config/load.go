package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads the YAML file at path and returns the configuration it
// describes, with defaults filled in and validated. Every failure, including
// a file that cannot be read, is an *Error naming path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		reason := err.Error()
		var pe *os.PathError
		if errors.As(err, &pe) {
			reason = pe.Err.Error()
		}
		return nil, &Error{File: path, Reason: "cannot read the file: " + reason, Err: err}
	}
	return Parse(data, path)
}

// Parse is Load for a file already in memory; name stands for the file in
// error messages. Empty data, or data holding only comments, yields the
// default configuration.
func Parse(data []byte, name string) (*Config, error) {
	d := &decoder{lines: make(map[string]int)}
	c := new(Config)
	if err := d.document(data, c); err != nil {
		err.File = name
		return nil, err
	}
	if err := c.Validate(); err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.File, e.Line = name, d.lines[e.Key]
		}
		return nil, err
	}
	return c, nil
}

// decoder copies a YAML node tree onto a Config, field by field, following
// the yaml struct tags. It does the job of yaml.v3's Decoder with
// KnownFields(true), but keeps the key path and line of every key, which
// yaml.v3 reports only inside message strings.
type decoder struct {
	lines map[string]int // key path → line it was written on, to place Validate's errors
}

// document decodes the single YAML document in data onto c.
func (d *decoder) document(data []byte, c *Config) *Error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil
		}
		return syntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		if err != nil {
			return syntaxError(err)
		}
		return &Error{Line: extra.Line, Reason: "a second YAML document (after ---) is not allowed"}
	}
	if len(doc.Content) == 0 {
		return nil
	}
	return d.mapping(doc.Content[0], reflect.ValueOf(c).Elem(), "")
}

// syntaxError turns a yaml.v3 parse error, whose text reads
// "yaml: line N: reason", into an *Error with the line as a field.
func syntaxError(err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	e := &Error{Reason: "invalid YAML: " + msg, Err: err}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		num, reason, ok := strings.Cut(rest, ": ")
		if n, err := strconv.Atoi(num); ok && err == nil {
			e.Line, e.Reason = n, "invalid YAML: "+reason
		}
	}
	return e
}

// mapping decodes the mapping n onto the struct v; prefix is the key path of
// v ("" for the top level). A null node leaves v as it is.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, prefix string) *Error {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return &Error{Line: n.Line, Key: prefix, Reason: fmt.Sprintf("%s is not a mapping of keys to values", describe(n))}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		path := k.Value
		if prefix != "" {
			path = prefix + "." + k.Value
		}
		if k.Kind != yaml.ScalarNode {
			return &Error{Line: k.Line, Key: prefix, Reason: fmt.Sprintf("%s cannot be a key", describe(k))}
		}
		if line, dup := d.lines[path]; dup {
			return &Error{Line: k.Line, Key: path, Reason: fmt.Sprintf("duplicate key (first set on line %d)", line)}
		}
		f, ok := fieldByKey(v.Type(), k.Value)
		if !ok {
			return &Error{Line: k.Line, Key: path, Reason: unknownKey(v.Type(), k.Value)}
		}
		d.lines[path] = k.Line
		fv := v.FieldByIndex(f.Index)
		var err *Error
		if fv.Kind() == reflect.Struct {
			err = d.mapping(val, fv, path)
		} else {
			err = d.leaf(val, fv, path)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// leaf decodes a single value n into v, whose key path is path.
func (d *decoder) leaf(n *yaml.Node, v reflect.Value, path string) *Error {
	n = resolve(n)
	fail := func(format string, args ...any) *Error {
		return &Error{Line: n.Line, Key: path, Reason: fmt.Sprintf(format, args...)}
	}
	if isNull(n) {
		return fail("no value given (remove the key to use the default)")
	}
	if u, ok := v.Addr().Interface().(yaml.Unmarshaler); ok {
		if err := u.UnmarshalYAML(n); err != nil {
			return fail("%s", err)
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Struct: // a list item such as one of rules
		return d.mapping(n, v, path)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if err := d.leaf(n, p.Elem(), path); err != nil {
			return err
		}
		v.Set(p)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return fail("%s is not a list (write [443, 8443], or [] for none)", describe(n))
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			ipath := fmt.Sprintf("%s[%d]", path, i)
			d.lines[ipath] = item.Line
			if err := d.leaf(item, s.Index(i), ipath); err != nil {
				return err
			}
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			return fail("%s is not a string", describe(n))
		}
		if n.Value == "" {
			if path == "admin" {
				return fail(`empty value (write "off" to disable the admin listener)`)
			}
			return fail("empty value (remove the key to use the default)")
		}
		v.SetString(n.Value)
	case reflect.Int:
		var i int64
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil || v.OverflowInt(i) {
			return fail("%s is not an integer", describe(n))
		}
		v.SetInt(i)
	case reflect.Float64:
		var f float64
		tag := n.ShortTag()
		if n.Kind != yaml.ScalarNode || (tag != "!!float" && tag != "!!int") || n.Decode(&f) != nil || f != f {
			return fail("%s is not a number", describe(n))
		}
		v.SetFloat(f)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			return fail("%s is not true or false", describe(n))
		}
		v.SetBool(b)
	default:
		return fail("internal error: no decoder for Go type %s", v.Type())
	}
	return nil
}

// resolve follows an alias (*name) to the node it refers to.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is an explicit or implicit null ("key:" with
// nothing after it, "~", "null").
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// fieldByKey finds the field of struct type t whose yaml tag is key.
func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); f.IsExported() && yamlKey(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// yamlKey returns the key of field f: the name in its yaml tag.
func yamlKey(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

// unknownKey explains that key is not a field of t, suggesting the closest
// known key when it is within two edits of a typo.
func unknownKey(t reflect.Type, key string) string {
	best, dist := "", 3
	for i := 0; i < t.NumField(); i++ {
		if !t.Field(i).IsExported() {
			continue
		}
		k := yamlKey(t.Field(i))
		if d := EditDistance(key, k); d < dist {
			best, dist = k, d
		}
	}
	if best == "" {
		return "unknown key"
	}
	return fmt.Sprintf("unknown key (did you mean %s?)", best)
}

// EditDistance is the Levenshtein distance between a and b, for short
// names: it suggests the closest config key for a typo here, and the
// closest command for a mistyped one in cmd/edgeproxy.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
