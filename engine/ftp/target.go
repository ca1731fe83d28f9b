package ftp

import (
	"strconv"
	"strings"

	"edgeproxy/engine/internal/urlpart"
)

// Target is an ftp:// URL taken apart: where to connect, who to log in as,
// and what to fetch.
type Target struct {
	Host string // as written in the URL, brackets kept for an IPv6 literal
	Port int
	// User and Password are the decoded userinfo; both empty when the URL
	// has none, and HasPassword tells an empty password from none.
	User, Password string
	HasPassword    bool
	// Path is the decoded path relative to the login directory, "" for the
	// login directory itself (RFC 1738 §3.2.2: "%2F" at its start makes it
	// absolute).
	Path string
	// Type is the transfer type: 'i' (image, the default), 'a' (ASCII) or
	// 'd' (a directory listing), from ";type=" (RFC 1738 §3.2.2).
	Type byte
	// Dir means the URL names a directory: its path ends in '/', or it
	// asks for ;type=d.
	Dir bool

	base string // ftp://[user@]host[:port], never with the password
	dir  string // the URL's raw directory path, ending in '/'
	raw  string // the URL's raw path, as sent
}

// ParseTarget builds a Target from the parts of an ftp:// request target:
// host and port (port empty for 21), the raw path (percent-encoded, as
// sent) and the raw userinfo (user[:password], may be empty).
func ParseTarget(host, port, path, userinfo []byte) (*Target, error) {
	t := &Target{Host: string(host), Type: 'i'}
	var ok bool
	if t.Port, ok = urlpart.Port(port, 21); !ok {
		return nil, ErrBadURL
	}
	if len(userinfo) > 0 {
		u, pw, has := strings.Cut(string(userinfo), ":")
		var err error
		if t.User, err = unescape(u); err != nil {
			return nil, err
		}
		if t.Password, err = unescape(pw); err != nil {
			return nil, err
		}
		t.HasPassword = has
	}
	raw := string(path)
	t.raw = raw
	if i := strings.LastIndexByte(raw, ';'); i >= 0 && i > strings.LastIndexByte(raw, '/') {
		param := raw[i+1:]
		if len(param) == 6 && strings.EqualFold(param[:5], "type=") {
			switch c := param[5] | 0x20; c {
			case 'a', 'i', 'd':
				t.Type = c
				raw = raw[:i]
			default:
				return nil, ErrBadURL
			}
		}
	}
	raw = strings.TrimPrefix(raw, "/")
	segs := strings.Split(raw, "/")
	for i, s := range segs {
		d, err := unescape(s)
		if err != nil {
			return nil, err
		}
		segs[i] = d
	}
	t.Path = strings.Join(segs, "/")
	t.Dir = t.Type == 'd' || raw == "" || strings.HasSuffix(raw, "/")
	if t.Type == 'd' {
		t.Type = 'i'
		t.Dir = true
	}

	var b strings.Builder
	b.WriteString("ftp://")
	if t.User != "" {
		b.WriteString(strings.NewReplacer(":", "%3A", "@", "%40").Replace(escape(t.User)))
		b.WriteByte('@')
	}
	b.WriteString(strings.ToLower(t.Host))
	if t.Port != 21 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(t.Port))
	}
	t.base = b.String()
	t.dir = "/" + raw
	if !t.Dir {
		t.dir = t.dir[:strings.LastIndexByte(t.dir, '/')+1]
	} else if !strings.HasSuffix(t.dir, "/") {
		t.dir += "/"
	}
	return t, nil
}

// Addr is the control connection's address, host:port.
func (t *Target) Addr() string {
	return urlpart.Addr(t.Host, t.Port)
}

// LogURL is the URL with the user name but never the password.
func (t *Target) LogURL() string {
	if !strings.HasPrefix(t.raw, "/") {
		return t.base + "/" + t.raw
	}
	return t.base + t.raw
}

// Realm names the server in a Basic challenge.
func (t *Target) Realm() string {
	if t.Port != 21 {
		return "FTP " + t.Host + ":" + strconv.Itoa(t.Port)
	}
	return "FTP " + t.Host
}

// AsDir is the target taken as a directory: a path without a trailing
// '/' that turned out to name one, whose listing links under it.
func (t *Target) AsDir() *Target {
	d := *t
	if !d.Dir {
		d.Dir = true
		raw := strings.TrimPrefix(d.raw, "/")
		if i := strings.LastIndexByte(raw, ';'); i >= 0 && i > strings.LastIndexByte(raw, '/') {
			raw = raw[:i]
		}
		d.dir = "/" + strings.TrimSuffix(raw, "/") + "/"
	}
	return &d
}

// DirURL is the URL of the directory the target names, or of the one that
// holds the file it names, with the user name but never the password.
func (t *Target) DirURL() string { return t.base + t.dir }

// unescape percent-decodes s and refuses what would break an FTP command
// line: CR, LF and NUL.
func unescape(s string) (string, error) {
	d, ok := urlpart.Unescape(s, false, "\r\n\x00")
	if !ok {
		return "", ErrBadURL
	}
	return d, nil
}

// escape percent-encodes a name for one path segment of a URL: everything
// but RFC 3986's unreserved bytes and a few sub-delims that are safe inside
// a segment. ';' is encoded so a name cannot pose as ";type=".
func escape(s string) string { return urlpart.Escape(s, "-._~!$()*+,=:@") }
