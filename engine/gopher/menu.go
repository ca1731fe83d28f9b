package gopher

import (
	"bufio"
	"bytes"
	"errors"
	"html"
	"io"
	"strconv"
	"strings"
)

// MaxLine bounds a menu line and MaxMenu a whole menu: RFC 1436 sets no
// limit, menus are read whole before rendering, and without bounds a server
// could make the proxy buffer without end.
const (
	MaxLine = 4 << 10
	MaxMenu = 1 << 20
)

// AppendMenu reads a menu (RFC 1436 §3.8) from r and appends an HTML page
// for it to dst. title names the page (the menu's URL).
func AppendMenu(dst []byte, r io.Reader, title string) ([]byte, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, MaxMenu+1), MaxLine)
	t := html.EscapeString(title)
	dst = append(dst, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Gopher menu "...)
	dst = append(dst, t...)
	dst = append(dst, "</title></head>\n<body><h1>Gopher menu "...)
	dst = append(dst, t...)
	dst = append(dst, "</h1>\n<pre>\n"...)
	read := 0
	for {
		line, err := br.ReadSlice('\n')
		read += len(line)
		if read > MaxMenu {
			return nil, ErrMenuTooLarge
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, ErrLineTooLong
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if string(line) == "." {
			break
		}
		if len(line) > 0 {
			dst = appendItem(dst, line)
		}
		if err == io.EOF {
			break
		}
	}
	return append(dst, "</pre>\n</body></html>\n"...), nil
}

// appendItem renders one menu line: Xdisplay TAB selector TAB host TAB port.
func appendItem(dst, line []byte) []byte {
	typ := line[0]
	fields := strings.Split(string(line[1:]), "\t")
	display := fields[0]
	var sel, host string
	port := 0
	if len(fields) >= 4 {
		sel, host = fields[1], fields[2]
		if p, err := strconv.Atoi(strings.TrimSpace(fields[3])); err == nil && p > 0 && p <= 65535 {
			port = p
		}
	}
	href := ""
	switch {
	case typ == 'i' || typ == '3':
	case typ == 'h' && strings.HasPrefix(sel, "URL:"):
		if u := sel[4:]; webScheme(u) {
			href = u
		}
	case typ == '8' || typ == 'T' || typ == '2':
		// telnet sessions and phone books are not fetched
	case isAlnum(typ) && validHost(host) && port > 0:
		href = URL(host, port, typ, sel)
	}
	label := label(typ)
	dst = append(dst, label...)
	for i := len(label); i < 7; i++ {
		dst = append(dst, ' ')
	}
	if href == "" {
		dst = append(dst, html.EscapeString(display)...)
		return append(dst, '\n')
	}
	dst = append(dst, "<a href=\""...)
	dst = append(dst, html.EscapeString(href)...)
	dst = append(dst, "\">"...)
	dst = append(dst, html.EscapeString(display)...)
	return append(dst, "</a>\n"...)
}

// label is the short tag shown before an item.
func label(typ byte) string {
	switch typ {
	case 'i':
		return ""
	case '0':
		return "(TXT)"
	case '1':
		return "(DIR)"
	case '3':
		return "(ERR)"
	case '7':
		return "(?)"
	case 'h':
		return "(HTML)"
	case 'g', 'I', 'p':
		return "(IMG)"
	}
	return "(BIN)"
}

// webScheme reports a URL whose scheme may be linked from a menu: never
// javascript: or data:.
func webScheme(u string) bool {
	for _, s := range []string{"http://", "https://", "ftp://", "gopher://"} {
		if len(u) > len(s) && strings.EqualFold(u[:len(s)], s) {
			return true
		}
	}
	return false
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// validHost accepts a DNS name or IPv4 address (letters, digits, '-' and
// '.'), or a bracketed IPv6 literal.
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if h[0] == '[' {
		if h[len(h)-1] != ']' || len(h) < 3 {
			return false
		}
		for _, c := range []byte(h[1 : len(h)-1]) {
			if !(c == ':' || c == '.' || '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
		return true
	}
	for _, c := range []byte(h) {
		if !isAlnum(c) && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// AppendSearchPage appends the page for a search item asked for without a
// search string: a form whose submission comes back as ?q=<words>.
func AppendSearchPage(dst []byte, itemURL string) []byte {
	u := html.EscapeString(itemURL)
	dst = append(dst, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Gopher search "...)
	dst = append(dst, u...)
	dst = append(dst, "</title></head>\n<body><h1>Gopher search "...)
	dst = append(dst, u...)
	dst = append(dst, "</h1>\n<form method=\"get\" action=\""...)
	dst = append(dst, u...)
	return append(dst, "\"><input name=\"q\"> <input type=\"submit\" value=\"Search\"></form>\n</body></html>\n"...)
}
