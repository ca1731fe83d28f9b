package urlpart

import "testing"

func TestUnescape(t *testing.T) {
	tests := []struct {
		in, refuse string
		form       bool
		want       string
		ok         bool
	}{
		{"plain", "\r\n", false, "plain", true},
		{"a%20b", "\r\n", false, "a b", true},
		{"a+b", "\r\n", false, "a+b", true},
		{"a+b%2B", "\r\n", true, "a b+", true},
		{"a%0Db", "\r\n", false, "", false},
		{"a\nb", "\r\n", false, "", false},
		{"a%0", "", false, "", false},
		{"a%zz", "", false, "", false},
		{"a%09b", "\r\n\t", false, "", false},
	}
	for _, tt := range tests {
		got, ok := Unescape(tt.in, tt.form, tt.refuse)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Unescape(%q, %v): got %q, %v, want %q, %v", tt.in, tt.form, got, ok, tt.want, tt.ok)
		}
	}
}

func TestEscapePortAddr(t *testing.T) {
	if got, want := Escape("a b/;é", "/"), "a%20b/%3B%C3%A9"; got != want {
		t.Errorf("Escape: got %q, want %q", got, want)
	}
	for _, tt := range []struct {
		in   string
		want int
		ok   bool
	}{{"", 21, true}, {"2121", 2121, true}, {"x", 0, false}} {
		if got, ok := Port([]byte(tt.in), 21); got != tt.want || ok != tt.ok {
			t.Errorf("Port(%q): got %d, %v, want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if got, want := Addr("[::1]", 70), "[::1]:70"; got != want {
		t.Errorf("Addr: got %q, want %q", got, want)
	}
}
