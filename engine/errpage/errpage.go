package errpage

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Layout is the file name of the template used for every page that has no
// template of its own.
const Layout = "error.html"

//go:embed templates/error.html
var builtin embed.FS

// Page is what one error page says. The engine fills it in from the error
// and the request; templates read its fields.
type Page struct {
	// Status is the HTTP status code, and Reason its reason phrase.
	Status int
	Reason string
	// Name is the page's name, Squid's ERR_* name for the error, such as
	// "ERR_CONNECT_FAIL"; a template of that name replaces the layout.
	Name string
	// Title says in a few words what went wrong.
	Title string
	// Text is the one-line explanation that plain-text clients get.
	Text string
	// Hint says what the user can try.
	Hint string
	// Detail is extra context, such as the name of the rule that refused
	// the request; empty when there is none.
	Detail string
	// Method and URL are the request's; URL is empty when the request could
	// not be read.
	Method, URL string
	// Proxy is the proxy's name (the name key) and Client the client's address.
	Proxy, Client string
	// Time is when the page was generated.
	Time time.Time
}

// TimeText is Time as an HTTP date, for templates.
func (p *Page) TimeText() string { return p.Time.UTC().Format(time.RFC1123) }

// Sentence is Text as a sentence: capitalised, with a final full stop.
func (p *Page) Sentence() string {
	t := p.Text
	if t == "" {
		return ""
	}
	if c := t[0]; c >= 'a' && c <= 'z' {
		t = string(c-'a'+'A') + t[1:]
	}
	if !strings.HasSuffix(t, ".") {
		t += "."
	}
	return t
}

// Link reports whether URL is an http or https URL the page may link to.
func (p *Page) Link() bool {
	u := strings.ToLower(p.URL)
	return strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")
}

// Set is a loaded set of templates. It is safe for concurrent use once
// loaded.
type Set struct {
	layout *template.Template
	pages  map[string]*template.Template // by page name, without .html
}

// Default returns the built-in set.
func Default() *Set {
	s, err := load(builtin, "templates", "templates")
	if err != nil {
		panic(err) // the embedded template is checked by the package tests
	}
	return s
}

// Load returns the built-in set with the templates of dir added: every
// *.html file in dir is parsed and tried on sample data.
func Load(dir string) (*Set, error) {
	s := Default()
	more, err := load(os.DirFS(dir), ".", dir)
	if err != nil {
		return nil, err
	}
	if more.layout == nil && len(more.pages) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoTemplates, dir)
	}
	if more.layout != nil {
		s.layout = more.layout
	}
	for k, v := range more.pages {
		s.pages[k] = v
	}
	return s, nil
}

// load parses the *.html files of dir in fsys; shown is dir as errors name it.
func load(fsys fs.FS, dir, shown string) (*Set, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("errpage: %w", err)
	}
	s := &Set{pages: make(map[string]*template.Template)}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".html") {
			continue
		}
		file := filepath.Join(shown, e.Name())
		src, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("errpage: %w", err)
		}
		t, err := template.New(e.Name()).Parse(string(src))
		if err != nil {
			return nil, fmt.Errorf("%w %s: %v", ErrTemplate, file, err)
		}
		if err := t.Execute(io.Discard, sample()); err != nil {
			return nil, fmt.Errorf("%w %s: %v", ErrTemplate, file, err)
		}
		if e.Name() == Layout {
			s.layout = t
		} else {
			s.pages[strings.TrimSuffix(e.Name(), ".html")] = t
		}
	}
	return s, nil
}

// sample is the page a template is tried on when it is loaded.
func sample() *Page {
	return &Page{Status: 502, Reason: "Bad Gateway", Name: "ERR_CONNECT_FAIL", Title: "Connection failed",
		Text: "the origin refused the connection", Hint: "Try again later.", Detail: "rule",
		Method: "GET", URL: "http://example.com/", Proxy: "edgeproxy", Client: "192.0.2.1", Time: time.Unix(0, 0)}
}

// Append renders p as an HTML page and appends it to dst. The template is
// the one named p.Name, or the layout.
func (s *Set) Append(dst []byte, p *Page) []byte {
	t := s.pages[p.Name]
	if t == nil {
		t = s.layout
	}
	w := appender{b: dst}
	if err := t.Execute(&w, p); err != nil {
		// Every template ran on sample data at load time; a failure here
		// is a page field the sample lacked. The plain text still says it.
		w.b = append(dst, "<!DOCTYPE html><title>Error</title><p>"...)
		w.b = append(w.b, template.HTMLEscapeString(p.Text)...)
	}
	return w.b
}

// appender is an io.Writer appending to a slice.
type appender struct{ b []byte }

func (a *appender) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}
