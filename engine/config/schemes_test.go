package config

import (
	"errors"
	"testing"
	"time"
)

// Issue 16: the ftp: and gopher: keys, their defaults and their checks.
func TestSchemeKeys(t *testing.T) {
	c, err := Parse([]byte(""), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !c.FTP.Allows(21) || c.FTP.Allows(2121) || c.FTP.Upload || c.FTP.AnonymousPassword != "edgeproxy@" {
		t.Errorf("ftp defaults: got %+v", c.FTP)
	}
	if !c.Gopher.Allows(70) || c.Gopher.Allows(7070) || time.Duration(c.Gopher.MaxAge) != 5*time.Minute {
		t.Errorf("gopher defaults: got %+v", c.Gopher)
	}
	c, err = Parse([]byte("ftp: {allowed_ports: [2121], upload: true}\ngopher: {allowed_ports: [], max_age: 30s}\n"), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !c.FTP.Allows(2121) || c.FTP.Allows(21) || !c.FTP.Upload || c.Gopher.Allows(70) || time.Duration(c.Gopher.MaxAge) != 30*time.Second {
		t.Errorf("set: got %+v %+v", c.FTP, c.Gopher)
	}
	for _, tc := range []struct{ yaml, key string }{
		{"ftp: {allowed_ports: [0]}", "ftp.allowed_ports[0]"},
		{"gopher: {allowed_ports: [70, 70000]}", "gopher.allowed_ports[1]"},
		{"gopher: {max_age: -1s}", "gopher.max_age"},
		{"ftp: {anonymous_password: \"a\\r\\nDELE x\"}", "ftp.anonymous_password"},
	} {
		_, err := Parse([]byte(tc.yaml), "test.yaml")
		var e *Error
		if !errors.As(err, &e) || e.Key != tc.key {
			t.Errorf("%s: got %v, want an error for %s", tc.yaml, err, tc.key)
		}
	}
}
