package gopher

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		port, path string
		want       Target
		request    string
	}{
		{"", "", Target{Port: 70, Type: '1'}, "\r\n"},
		{"", "/", Target{Port: 70, Type: '1'}, "\r\n"},
		{"7070", "/1/pub", Target{Port: 7070, Type: '1', Selector: "/pub"}, "/pub\r\n"},
		{"", "/0/a%20b.txt", Target{Port: 70, Type: '0', Selector: "/a b.txt"}, "/a b.txt\r\n"},
		{"", "/7/find?gopher%20holes", Target{Port: 70, Type: '7', Selector: "/find", Search: "gopher holes", HasSearch: true}, "/find\tgopher holes\r\n"},
		{"", "/7/find?q=two+words", Target{Port: 70, Type: '7', Selector: "/find", Search: "two words", HasSearch: true}, "/find\ttwo words\r\n"},
		{"", "/0/cgi?x=1", Target{Port: 70, Type: '0', Selector: "/cgi?x=1"}, "/cgi?x=1\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := ParseURL([]byte("h"), []byte(tt.port), []byte(tt.path))
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Host = "h"
			if *got != tt.want {
				t.Fatalf("got %+v, want %+v", *got, tt.want)
			}
			if got.Request() != tt.request {
				t.Fatalf("request: got %q, want %q", got.Request(), tt.request)
			}
		})
	}
}

// Issue 16: a selector or search that decodes to CR, LF, TAB or NUL is the
// classic way to make a proxy talk SMTP or Redis through gopher://.
func TestParseURLRefusesSmuggling(t *testing.T) {
	tests := []struct {
		path string
		err  error
	}{
		{"/_HELO%20x%0D%0AMAIL%20FROM:a", ErrSelector},
		{"/1/a%0Ab", ErrSelector},
		{"/1/a%09b", ErrSelector},
		{"/1/a%00b", ErrSelector},
		{"/7/s?a%0D%0Ab", ErrSelector},
		{"/7/s?q=a%0Db", ErrSelector},
		{"/1/a%zz", ErrSelector},
		{"/8/telnet", ErrType},
		{"/T/tn3270", ErrType},
		{"/2/cso", ErrType},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if _, err := ParseURL([]byte("h"), nil, []byte(tt.path)); err != tt.err {
				t.Fatalf("got %v, want %v", err, tt.err)
			}
		})
	}
}

func TestAppendMenu(t *testing.T) {
	menu := "iWelcome <b>here</b>\t\terror.host\t1\r\n" +
		"0About \"us\"\t/about.txt\texample.org\t70\r\n" +
		"1Sub & more\t/sub dir\texample.org\t7070\r\n" +
		"7Search\t/find\texample.org\t70\r\n" +
		"hWeb\tURL:https://example.org/?a=1&b=2\texample.org\t70\r\n" +
		"hEvil\tURL:javascript:alert(1)\texample.org\t70\r\n" +
		"1Bad host\t/x\tevil.org\"><script>\t70\r\n" +
		"8Telnet\t\texample.org\t23\r\n" +
		".\r\n" +
		"0After the end\t/x\texample.org\t70\r\n"
	page, err := AppendMenu(nil, strings.NewReader(menu), "gopher://example.org/1/")
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	for _, want := range []string{
		"Welcome &lt;b&gt;here&lt;/b&gt;\n",
		`<a href="gopher://example.org/0/about.txt">About &#34;us&#34;</a>`,
		`<a href="gopher://example.org:7070/1/sub%20dir">Sub &amp; more</a>`,
		`<a href="gopher://example.org/7/find">Search</a>`,
		`<a href="https://example.org/?a=1&amp;b=2">Web</a>`,
		"Evil\n",
		"Bad host\n",
		"Telnet\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("menu lacks %q:\n%s", want, s)
		}
	}
	for _, bad := range []string{"javascript:", "<script>", "After the end", "<b>"} {
		if strings.Contains(s, bad) {
			t.Errorf("menu holds %q:\n%s", bad, s)
		}
	}
}

func TestAppendMenuBounds(t *testing.T) {
	if _, err := AppendMenu(nil, strings.NewReader("i"+strings.Repeat("x", MaxLine+1)+"\r\n"), "t"); err != ErrLineTooLong {
		t.Fatalf("long line: got %v, want %v", err, ErrLineTooLong)
	}
	big := strings.Repeat("i"+strings.Repeat("x", 100)+"\r\n", MaxMenu/100)
	if _, err := AppendMenu(nil, strings.NewReader(big), "t"); err != ErrMenuTooLarge {
		t.Fatalf("large menu: got %v, want %v", err, ErrMenuTooLarge)
	}
}

func TestTextReader(t *testing.T) {
	tests := []struct{ in, want string }{
		{"hello\r\nworld\r\n.\r\n", "hello\r\nworld\r\n"},
		{"hello\n.\n", "hello\n"},
		{"hello\r\n.", "hello\r\n"},
		{".\r\n", ""},
		{"no terminator\r\n", "no terminator\r\n"},
		{"a.\r\n", "a.\r\n"},
		{"", ""},
		{strings.Repeat("0123456789", 10000) + "\r\n.\r\n", strings.Repeat("0123456789", 10000) + "\r\n"},
	}
	for _, tt := range tests {
		for name, r := range map[string]func() io.Reader{
			"whole":    func() io.Reader { return strings.NewReader(tt.in) },
			"one byte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(tt.in)) },
		} {
			got, err := io.ReadAll(TextReader(r()))
			if err != nil || string(got) != tt.want {
				t.Errorf("%s %.20q: got %.40q %v, want %.40q", name, tt.in, got, err, tt.want)
			}
		}
	}
}
