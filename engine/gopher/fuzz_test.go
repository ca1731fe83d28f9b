package gopher

import (
	"strings"
	"testing"
)

// A URL that parses always yields one request line: no CR or LF before its
// end, and a TAB only between selector and search.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"", "/", "/1/", "/0/a%20b", "/7/find?x", "/7/find?q=a+b", "/1/a%0D%0Ab", "/7/s?%09"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		tg, err := ParseURL([]byte("h"), nil, []byte(path))
		if err != nil {
			return
		}
		line := strings.TrimSuffix(tg.Request(), "\r\n")
		if strings.ContainsAny(line, "\r\n\x00") {
			t.Fatalf("%q: request line %q", path, tg.Request())
		}
		if tabs := strings.Count(line, "\t"); tabs > 1 || tabs == 1 && !tg.HasSearch {
			t.Fatalf("%q: request line %q", path, tg.Request())
		}
	})
}

// A menu never renders a raw '<' from the server: every tag in the page is
// one the renderer wrote.
func FuzzAppendMenu(f *testing.F) {
	f.Add("0<x>\t/a\th\t70\r\n1b\t/b\th\t70\r\n.\r\n")
	f.Add("hw\tURL:http://x/<y>\th\t70\r\n")
	f.Fuzz(func(t *testing.T, menu string) {
		page, err := AppendMenu(nil, strings.NewReader(menu), "t")
		if err != nil {
			return
		}
		s := string(page)
		for i := strings.IndexByte(s, '<'); i >= 0; i = strings.IndexByte(s, '<') {
			s = s[i+1:]
			ok := false
			for _, tag := range []string{"!DOCTYPE html>", "html>", "head>", "meta charset=\"utf-8\">", "title>", "/title>", "/head>", "body>", "h1>", "/h1>", "pre>", "/pre>", "a href=\"", "/a>", "/body>", "/html>"} {
				if strings.HasPrefix(s, tag) {
					ok = true
					break
				}
			}
			if !ok {
				t.Fatalf("unexpected tag at %.40q in the page of %q", s, menu)
			}
			if strings.HasPrefix(s, "a href=\"") {
				end := strings.IndexByte(s[8:], '"')
				if end < 0 || strings.ContainsAny(s[8:8+end], "<>") {
					t.Fatalf("bad href at %.60q", s)
				}
			}
		}
	})
}
