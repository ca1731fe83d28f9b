package auth

import (
	"fmt"
	"slices"
	"strings"
)

// FileError is a password file that cannot be used: it cannot be read, or
// it has a line that makes the whole file ambiguous. File is the path as
// configured, so the caller can name the configuration key that set it; the
// message is Err's.
type FileError struct {
	File string
	Err  error
}

// Error returns Err's message, which names the file and, where there is
// one, the line.
func (e *FileError) Error() string { return e.Err.Error() }

// Unwrap returns Err, so that errors.Is finds the sentinel or fs error.
func (e *FileError) Unwrap() error { return e.Err }

// maxNamedUsers bounds how many user names one warning lists.
const maxNamedUsers = 20

// Warnings says what in the files will not work as an operator may expect:
// htpasswd lines that were skipped (each with its file and line) and, when
// both files are configured, the users found in only one of them. Browsers
// such as Chromium and Firefox answer the strongest challenge offered, which
// is Digest, so a user only in the htpasswd file cannot log in from a
// browser, and a user only in the htdigest file cannot log in with a client
// that speaks Basic only. It returns nil when there is nothing to say.
func (a *Authenticator) Warnings() []string {
	w := slices.Clone(a.warnings)
	if a.basic == nil || a.digest == nil {
		return w
	}
	var basicOnly, digestOnly []string
	for name := range a.basic {
		if a.digest[name] == nil {
			basicOnly = append(basicOnly, name)
		}
	}
	for name := range a.digest {
		if a.basic[name] == nil {
			digestOnly = append(digestOnly, name)
		}
	}
	if len(basicOnly) > 0 {
		w = append(w, fmt.Sprintf("users only in %s (htpasswd) cannot log in from a browser, which answers the Digest challenge: %s",
			a.cfg.BasicFile, nameList(basicOnly)))
	}
	if len(digestOnly) > 0 {
		w = append(w, fmt.Sprintf("users only in %s (htdigest, realm %q) cannot log in with a client that sends Basic only: %s",
			a.cfg.DigestFile, a.cfg.Realm, nameList(digestOnly)))
	}
	return w
}

// nameList is the sorted, quoted list of names, cut at maxNamedUsers.
func nameList(names []string) string {
	slices.Sort(names)
	var b strings.Builder
	for i, n := range names {
		if i == maxNamedUsers {
			fmt.Fprintf(&b, " and %d more", len(names)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", n)
	}
	return b.String()
}
