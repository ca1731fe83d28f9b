package config

import (
	"errors"
	"strings"
	"testing"
)

// Issue 15: listeners with a mode; the old listen key is one forward
// listener.
func TestListeners(t *testing.T) {
	c, err := Parse([]byte(`
listeners:
  - address: "127.0.0.1:3128"
  - {address: ":3129", mode: intercept}
  - {address: ":3130", mode: tproxy}
`), "edgeproxy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := c.AllListeners()
	want := []Listener{{"127.0.0.1:3128", ModeForward}, {":3129", ModeIntercept}, {":3130", ModeTproxy}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("listener %d: got %v, want %v", i, got[i], want[i])
		}
	}
	if !c.Intercepts() {
		t.Error("Intercepts: got false, want true")
	}

	d := Default()
	if got := d.AllListeners(); len(got) != 1 || got[0] != (Listener{d.Listen, ModeForward}) {
		t.Errorf("default: got %v, want one forward listener on %q", got, d.Listen)
	}
	if d.Intercepts() {
		t.Error("default Intercepts: got true, want false")
	}
}

func TestListenersInvalid(t *testing.T) {
	cases := []struct {
		name, yaml, reason string
	}{
		{"unknown mode", `listeners: [{address: ":3129", mode: nat}]`, `mode "nat"`},
		{"bad address", `listeners: [{address: "3129", mode: intercept}]`, "not host:port"},
		{"same port twice", `listeners: [{address: "127.0.0.1:3129"}, {address: ":3129", mode: intercept}]`, "used by two listeners"},
		{"port 0 for interception", `listeners: [{address: ":0", mode: intercept}]`, "needs a fixed port"},
		{"tproxy alone", `listeners: [{address: ":3130", mode: tproxy}]`, "at least one listener must be forward or intercept"},
		{"admin address", `listeners: [{address: "127.0.0.1:9128"}]`, "also the admin address"},
		{"proxy authentication with interception",
			"auth:\n  basic_file: /etc/edgeproxy/htpasswd\nlisteners: [{address: \":3129\", mode: intercept}]",
			"proxy authentication (auth.basic_file, auth.digest_file) cannot work with an intercept or tproxy listener"},
		{"digest authentication with tproxy",
			"auth:\n  digest_file: /etc/edgeproxy/digest\nlisteners: [{address: \":3128\"}, {address: \":3130\", mode: tproxy}]",
			"cannot work with an intercept or tproxy listener"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "edgeproxy.yaml")
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *config.Error", err)
			}
			if ce.Key != "listeners" || !strings.Contains(ce.Reason, tc.reason) {
				t.Errorf("got %q: %q, want listeners: ...%q...", ce.Key, ce.Reason, tc.reason)
			}
		})
	}
	// Authentication with forward listeners only is fine.
	if _, err := Parse([]byte("auth:\n  basic_file: /x\nlisteners: [{address: \":3128\"}, {address: \":3228\"}]"), "e.yaml"); err != nil {
		t.Errorf("forward listeners with auth: got %v, want nil", err)
	}
}
