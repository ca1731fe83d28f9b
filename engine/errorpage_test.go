package engine

import "testing"

// Issue 13: an HTML error page goes to clients whose Accept lists
// text/html with a non-zero weight.
func TestAcceptsHTML(t *testing.T) {
	tests := []struct {
		accept string
		want   bool
	}{
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
		{"TEXT/HTML", true},
		{"application/json, text/html ; q=0.5", true},
		{"*/*", false},
		{"", false},
		{"text/*", false},
		{"text/html;q=0", false},
		{"text/html; q=0.000", false},
		{"text/htmlx", false},
	}
	for _, tt := range tests {
		if got := acceptsHTML([]byte(tt.accept)); got != tt.want {
			t.Errorf("acceptsHTML(%q): got %v, want %v", tt.accept, got, tt.want)
		}
	}
}
