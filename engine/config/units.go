package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Size is a number of bytes. In YAML it is a plain integer (1048576) or a
// number followed by a binary unit: 512B, 64KiB, 256MiB, 1GiB, 2TiB. Units are
// matched without regard to case; decimal units (KB, MB) and fractions are
// refused so that no one has to guess whether a kilobyte is 1000 or 1024.
type Size int64

// Binary size units.
const (
	Byte Size = 1
	KiB       = 1024 * Byte
	MiB       = 1024 * KiB
	GiB       = 1024 * MiB
	TiB       = 1024 * GiB
)

// sizeUnits lists the accepted units, largest first so that String picks the
// largest one that divides exactly.
var sizeUnits = []struct {
	name string
	size Size
}{{"TiB", TiB}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}, {"B", Byte}}

// sizeHint ends every message about a malformed size.
const sizeHint = "(write 512B, 64KiB, 256MiB, 1GiB)"

// String formats s in the largest unit that divides it exactly: 65536 is
// "64KiB", 1000 is "1000B", 0 is "0B".
func (s Size) String() string {
	if s == 0 {
		return "0B"
	}
	for _, u := range sizeUnits {
		if s%u.size == 0 {
			return strconv.FormatInt(int64(s/u.size), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(s), 10) + "B"
}

// parseSize parses a size as written in the configuration file: digits with
// an optional unit (B, KiB, MiB, GiB, TiB, any case, optionally preceded by a
// space). Negative sizes and sizes beyond the range of int64 are refused.
// ParseSize reads a size as written in the file or on the command line:
// a plain byte count or a number with B, KiB, MiB, GiB or TiB.
func ParseSize(text string) (Size, error) { return parseSize(text) }

func parseSize(text string) (Size, error) {
	t := strings.TrimSpace(text)
	digits := len(t) - len(strings.TrimLeft(t, "+-0123456789"))
	num, unit := t[:digits], strings.TrimSpace(t[digits:])
	mult := Byte
	if unit != "" {
		mult = 0
		for _, u := range sizeUnits {
			if strings.EqualFold(unit, u.name) {
				mult = u.size
			}
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil && errors.Is(err, strconv.ErrRange) && mult != 0 {
		return 0, fmt.Errorf("%q is too large", text)
	}
	if err != nil || mult == 0 {
		return 0, fmt.Errorf("%q is not a size %s", text, sizeHint)
	}
	if n < 0 {
		return 0, fmt.Errorf("%q is negative; a size counts bytes", text)
	}
	if n > math.MaxInt64/int64(mult) {
		return 0, fmt.Errorf("%q is too large", text)
	}
	return Size(n) * mult, nil
}

// UnmarshalYAML accepts an integer number of bytes or a string with a unit.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("%s is not a size %s", describe(n), sizeHint)
	}
	v, err := parseSize(n.Value)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Duration is a span of time. In YAML it is a string that time.ParseDuration
// accepts: "250ms", "30s", "5m", "1h30m". A bare number is refused, because
// nothing tells whether it counts seconds or milliseconds.
type Duration time.Duration

// durationHint ends every message about a malformed duration.
const durationHint = "(write 30s, 5m)"

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d like time.Duration.String, without trailing zero units:
// "30s", "5m", "24h", "1h30m", "250ms".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// UnmarshalYAML accepts a duration string and refuses bare numbers with a
// message that asks for a unit.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("%s is not a duration %s", describe(n), durationHint)
	}
	if n.ShortTag() == "!!int" || n.ShortTag() == "!!float" || isDigits(n.Value) {
		return fmt.Errorf("%s has no unit: add one (write %ss for seconds, %sms for milliseconds)",
			n.Value, n.Value, n.Value)
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("%q is not a duration %s", n.Value, durationHint)
	}
	*d = Duration(v)
	return nil
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// describe names a node's value for an error message: a scalar is quoted,
// a list or mapping is named by its shape.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "this value"
}
