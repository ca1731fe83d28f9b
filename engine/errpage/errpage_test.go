package errpage

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The built-in page names what happened, the URL, the proxy and the time,
// and escapes what came from the request.
func TestDefaultPage(t *testing.T) {
	p := &Page{Status: 403, Reason: "Forbidden", Name: "ERR_ACCESS_DENIED", Title: "Access denied",
		Text: "access denied by rule", Hint: "Ask the administrator.", Detail: "no-ads",
		Method: "GET", URL: `http://a.example/"><script>x()</script>`, Proxy: "edge1", Time: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	got := string(Default().Append(nil, p))
	for _, want := range []string{"Access denied", "Access denied by rule.", "no-ads", "Ask the administrator.", "edge1",
		"Wed, 02 Dec 2026 10:00:00 UTC", `http://a.example/&#34;&gt;&lt;script&gt;x()&lt;/script&gt;`} {
		if !strings.Contains(got, want) {
			t.Errorf("page lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "<script>") {
		t.Errorf("unescaped markup:\n%s", got)
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		err   error
	}{
		{"layout", map[string]string{"error.html": "<p>{{.Title}}</p>"}, nil},
		{"one page", map[string]string{"ERR_DNS_FAIL.html": "<p>{{.URL}}</p>", "README": "not a template"}, nil},
		{"parse error", map[string]string{"error.html": "<p>{{.Title</p>"}, ErrTemplate},
		{"unknown field", map[string]string{"ERR_X.html": "<p>{{.Nope}}</p>"}, ErrTemplate},
		{"empty", map[string]string{"notes.txt": "x"}, ErrNoTemplates},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, src := range tt.files {
				_ = os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644)
			}
			s, err := Load(dir)
			if !errors.Is(err, tt.err) {
				t.Fatalf("got %v, want %v", err, tt.err)
			}
			if err != nil {
				if tt.err == ErrTemplate && !strings.Contains(err.Error(), dir) {
					t.Errorf("got %q, want the file named", err)
				}
				return
			}
			p := &Page{Name: "ERR_DNS_FAIL", Title: "T", URL: "http://u/"}
			got := string(s.Append(nil, p))
			if want := map[string]string{"layout": "<p>T</p>", "one page": "<p>http://u/</p>"}[tt.name]; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}
