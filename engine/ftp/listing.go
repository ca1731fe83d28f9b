package ftp

import (
	"html"
	"slices"
	"strconv"
	"strings"
)

// AppendListing appends an HTML page listing entries of the directory t
// names: directories first, then by name. Every name is HTML-escaped as
// text and percent-encoded in its link, which is the entry's own ftp:// URL
// (with the user name, never the password).
func AppendListing(dst []byte, t *Target, entries []Entry) []byte {
	slices.SortFunc(entries, func(a, b Entry) int {
		if a.Dir != b.Dir {
			if a.Dir {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	dirURL := t.DirURL()
	title := html.EscapeString(dirURL)
	dst = append(dst, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>FTP directory "...)
	dst = append(dst, title...)
	dst = append(dst, "</title></head>\n<body><h1>FTP directory "...)
	dst = append(dst, title...)
	dst = append(dst, "</h1>\n"...)
	if t.dir != "/" {
		parent := t.dir[:strings.LastIndexByte(t.dir[:len(t.dir)-1], '/')+1]
		dst = append(dst, "<p><a href=\""...)
		dst = append(dst, html.EscapeString(t.base+parent)...)
		dst = append(dst, "\">Parent directory</a></p>\n"...)
	}
	dst = append(dst, "<table>\n<tr><th>Name</th><th>Size</th><th>Modified</th></tr>\n"...)
	for _, e := range entries {
		href := dirURL + escape(e.Name)
		if e.Dir {
			href += "/"
		}
		dst = append(dst, "<tr><td><a href=\""...)
		dst = append(dst, html.EscapeString(href)...)
		dst = append(dst, "\">"...)
		dst = append(dst, html.EscapeString(e.Name)...)
		if e.Dir {
			dst = append(dst, '/')
		}
		dst = append(dst, "</a></td><td>"...)
		if !e.Dir {
			dst = strconv.AppendUint(dst, e.Size, 10)
		}
		dst = append(dst, "</td><td>"...)
		if !e.Time.IsZero() {
			dst = e.Time.UTC().AppendFormat(dst, "2006-01-02 15:04")
		}
		dst = append(dst, "</td></tr>\n"...)
	}
	return append(dst, "</table>\n</body></html>\n"...)
}
