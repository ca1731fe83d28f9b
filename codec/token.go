package codec

// tchar marks the bytes allowed in a token (RFC 9110 §5.6.2): method names,
// field names and list members.
var tchar = [256]bool{
	'!': true, '#': true, '$': true, '%': true, '&': true, '\'': true, '*': true,
	'+': true, '-': true, '.': true, '^': true, '_': true, '`': true, '|': true, '~': true,
	'0': true, '1': true, '2': true, '3': true, '4': true, '5': true, '6': true, '7': true, '8': true, '9': true,
	'A': true, 'B': true, 'C': true, 'D': true, 'E': true, 'F': true, 'G': true, 'H': true, 'I': true,
	'J': true, 'K': true, 'L': true, 'M': true, 'N': true, 'O': true, 'P': true, 'Q': true, 'R': true,
	'S': true, 'T': true, 'U': true, 'V': true, 'W': true, 'X': true, 'Y': true, 'Z': true,
	'a': true, 'b': true, 'c': true, 'd': true, 'e': true, 'f': true, 'g': true, 'h': true, 'i': true,
	'j': true, 'k': true, 'l': true, 'm': true, 'n': true, 'o': true, 'p': true, 'q': true, 'r': true,
	's': true, 't': true, 'u': true, 'v': true, 'w': true, 'x': true, 'y': true, 'z': true,
}

// IsToken reports whether b is a non-empty token (RFC 9110 §5.6.2).
func IsToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !tchar[c] {
			return false
		}
	}
	return true
}

// lower folds an ASCII letter to lower case.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// EqualFold reports whether b equals s under ASCII case folding, without
// allocating.
func EqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

// EqualFoldBytes is EqualFold for two byte slices.
func EqualFoldBytes(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// AppendLower appends b folded to ASCII lower case.
func AppendLower(dst, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, lower(c))
	}
	return dst
}

// TrimOWS trims optional whitespace, SP and HTAB, from both ends of b.
func TrimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// NextListMember splits a comma-separated field value (RFC 9110 §5.6.1): it
// returns the first non-empty member, trimmed, and the rest of the list. An
// exhausted list yields a nil member. Quoted commas are not special here;
// callers that parse quoted parameters (Cache-Control) scan for themselves.
func NextListMember(v []byte) (member, rest []byte) {
	for len(v) > 0 {
		i := 0
		for i < len(v) && v[i] != ',' {
			i++
		}
		m := TrimOWS(v[:i])
		if i < len(v) {
			v = v[i+1:]
		} else {
			v = v[i:]
		}
		if len(m) > 0 {
			return m, v
		}
	}
	return nil, nil
}

// ListHas reports whether the comma-separated list v has a member equal to
// token under ASCII case folding.
func ListHas(v []byte, token string) bool {
	for m, rest := NextListMember(v); m != nil; m, rest = NextListMember(rest) {
		if EqualFold(m, token) {
			return true
		}
	}
	return false
}

// ListHasBytes is ListHas for a token held as bytes, such as a field name
// checked against a response's Connection values.
func ListHasBytes(v, token []byte) bool {
	for m, rest := NextListMember(v); m != nil; m, rest = NextListMember(rest) {
		if EqualFoldBytes(m, token) {
			return true
		}
	}
	return false
}
