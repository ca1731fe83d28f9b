package codec

// targetByte marks the bytes a request-target may hold: visible ASCII. RFC
// 9112 §3.2 builds every form from URI characters; control bytes, DEL and
// bytes above 0x7E (raw UTF-8 included) are refused rather than forwarded
// for the origin to interpret differently.
var targetByte = func() (t [256]bool) {
	for c := 0x21; c <= 0x7e; c++ {
		t[c] = true
	}
	return t
}()

// schemeByte marks the bytes after the first letter of a URI scheme
// (RFC 3986 §3.1).
var schemeByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
	}
	return t
}()

// regNameByte marks the bytes of a reg-name or IPv4 address (RFC 3986
// §3.2.2): unreserved, sub-delims and '%' of pct-encoded. '@' is absent, so
// userinfo is refused; ':' ends the host.
var regNameByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	}
	for _, c := range "-._~!$&'()*+,;=%" {
		t[c] = true
	}
	return t
}()

// ipLiteralByte marks the bytes inside the brackets of an IPv6 literal.
var ipLiteralByte = func() (t [256]bool) {
	for _, c := range "0123456789abcdefABCDEF:." {
		t[c] = true
	}
	return t
}()

// parseRequestLine parses method SP request-target SP HTTP-version
// (RFC 9112 §3), line being the request line without its CRLF.
func parseRequestLine(line []byte, r *Request) error {
	i := 0
	for i < len(line) && tchar[line[i]] {
		i++
	}
	if i == len(line) {
		return ErrRequestLine
	}
	if line[i] != ' ' || i == 0 {
		if line[i] == '\r' {
			return ErrBareCR
		}
		return ErrMethod
	}
	r.Method = line[:i]
	// RFC 9112 §3: exactly one SP between the parts. A recipient may accept
	// other whitespace; a proxy that did would parse differently from the
	// origin it forwards to.
	j := i + 1
	for j < len(line) && line[j] != ' ' {
		if !targetByte[line[j]] {
			if line[j] == '\r' {
				return ErrBareCR
			}
			return ErrTarget
		}
		j++
	}
	if j == len(line) || j == i+1 {
		return ErrRequestLine
	}
	r.Target = line[i+1 : j]
	v := line[j+1:]
	for _, c := range v {
		switch c {
		case '\r':
			return ErrBareCR
		case ' ':
			return ErrRequestLine
		}
	}
	// HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3).
	if len(v) != 8 || string(v[:5]) != "HTTP/" || !isDigit(v[5]) || v[6] != '.' || !isDigit(v[7]) {
		return ErrVersion
	}
	if v[5] != '1' {
		return ErrVersionNotSupported
	}
	r.Minor = min(v[7]-'0', 1)
	return parseTarget(r)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// parseTarget classifies r.Target into one of the forms of RFC 9112 §3.2 and
// fills the views of its parts.
func parseTarget(r *Request) error {
	t := r.Target
	for _, c := range t {
		if c == '#' {
			// RFC 9112 §3.2: no form admits a fragment; clients strip it.
			return ErrTarget
		}
	}
	connect := string(r.Method) == "CONNECT"
	switch {
	case connect:
		// RFC 9112 §3.2.3: CONNECT takes, and only takes, host:port.
		host, port, err := splitAuthority(t, true, ErrTarget)
		if err != nil {
			return err
		}
		r.Form, r.Host, r.Port = FormAuthority, host, port
	case t[0] == '/':
		r.Form, r.Path = FormOrigin, t
	case len(t) == 1 && t[0] == '*':
		// RFC 9112 §3.2.4: the asterisk form is for server-wide OPTIONS only.
		if string(r.Method) != "OPTIONS" {
			return ErrTarget
		}
		r.Form = FormAsterisk
	default:
		return parseAbsolute(t, r)
	}
	return nil
}

// parseAbsolute parses an absolute-form target (RFC 9112 §3.2.2):
// scheme "://" authority path-abempty ["?" query].
func parseAbsolute(t []byte, r *Request) error {
	if !isAlpha(t[0]) {
		return ErrTarget
	}
	i := 1
	for i < len(t) && schemeByte[t[i]] {
		i++
	}
	if len(t)-i < 3 || string(t[i:i+3]) != "://" {
		return ErrTarget
	}
	r.Scheme = t[:i]
	rest := t[i+3:]
	k := 0
	for k < len(rest) && rest[k] != '/' && rest[k] != '?' {
		k++
	}
	auth := rest[:k]
	if EqualFold(r.Scheme, "ftp") {
		// RFC 1738 §3.1: ftp://user:password@host/ is how FTP logins are
		// written. The last '@' ends the userinfo, whose bytes are those of
		// RFC 3986 §3.2.1.
		if at := lastIndexByte(auth, '@'); at >= 0 {
			for _, c := range auth[:at] {
				if !regNameByte[c] && c != ':' {
					return ErrTarget
				}
			}
			r.Userinfo, auth = auth[:at], auth[at+1:]
		}
	}
	host, port, err := splitAuthority(auth, false, ErrTarget)
	if err != nil {
		return err
	}
	r.Form, r.Host, r.Port, r.Path = FormAbsolute, host, port, rest[k:]
	return nil
}

func lastIndexByte(b []byte, c byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == c {
			return i
		}
	}
	return -1
}

// splitAuthority splits host [":" port] (RFC 3986 §3.2.2, §3.2.3). The host
// may not be empty and userinfo is refused: RFC 9110 §4.2.4 deprecates it and
// it is a classic way to disguise the real host. The port, when present, is
// 1 to 5 digits valued 1 to 65535; an empty port after ':' is refused too.
// fail is the error to return.
func splitAuthority(a []byte, needPort bool, fail error) (host, port []byte, err error) {
	if len(a) == 0 {
		return nil, nil, fail
	}
	i := 0
	if a[0] == '[' {
		i = 1
		for i < len(a) && ipLiteralByte[a[i]] {
			i++
		}
		if i == len(a) || a[i] != ']' || i == 1 {
			return nil, nil, fail
		}
		i++
	} else {
		for i < len(a) && regNameByte[a[i]] {
			i++
		}
		if i == 0 {
			return nil, nil, fail
		}
	}
	host = a[:i]
	if i == len(a) {
		if needPort {
			return nil, nil, fail
		}
		return host, nil, nil
	}
	if a[i] != ':' {
		return nil, nil, fail
	}
	port = a[i+1:]
	if len(port) == 0 || len(port) > 5 {
		return nil, nil, fail
	}
	v := 0
	for _, c := range port {
		if !isDigit(c) {
			return nil, nil, fail
		}
		v = v*10 + int(c-'0')
	}
	if v == 0 || v > 65535 {
		return nil, nil, fail
	}
	return host, port, nil
}

// SplitHostPort splits a Host field value (RFC 9110 §7.2: uri-host [ ":"
// port ]) into host and port, keeping the brackets of an IPv6 literal; port
// is nil when there is none. It checks nothing: the value was validated
// when the request was parsed.
func SplitHostPort(hp []byte) (host, port []byte) {
	if len(hp) > 0 && hp[0] == '[' {
		for i := range hp {
			if hp[i] == ']' {
				if i+1 < len(hp) && hp[i+1] == ':' {
					return hp[:i+1], hp[i+2:]
				}
				return hp[:i+1], nil
			}
		}
		return hp, nil
	}
	for i := len(hp) - 1; i >= 0; i-- {
		if hp[i] == ':' {
			return hp[:i], hp[i+1:]
		}
	}
	return hp, nil
}
