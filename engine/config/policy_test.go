package config

import (
	"errors"
	"testing"
)

// The rules list decodes into acl.RuleConfig values, keeping key paths and
// lines for errors inside list items.
func TestRulesAndPolicyKeys(t *testing.T) {
	c, err := Parse([]byte(`
acl:
  allow_file: /etc/edgeproxy/allow.txt
  deny_file: /etc/edgeproxy/deny.txt
rules:
  - action: deny
    domains: [ads.example.com]
  - action: deny
    url_regex: ['\.exe$']
  - action: allow
    users: [alice]
    ports: [443, 8443]
auth:
  basic_file: /etc/edgeproxy/htpasswd
log:
  format: combined
  path: /var/log/edgeproxy/access.log
pac:
  direct_domains: [corp.example, intranet]
`), "edgeproxy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rules) != 3 || c.Rules[0].Action != "deny" || c.Rules[0].Domains[0] != "ads.example.com" ||
		c.Rules[1].URLRegex[0] != `\.exe$` || c.Rules[2].Ports[1] != 8443 || c.Rules[2].Users[0] != "alice" {
		t.Errorf("rules decoded wrong: %+v", c.Rules)
	}
	if c.ACL.AllowFile != "/etc/edgeproxy/allow.txt" || c.Auth.Realm != "edgeproxy" || c.Log.Format != "combined" ||
		len(c.PAC.DirectDomains) != 2 {
		t.Errorf("policy keys decoded wrong: %+v %+v %+v %+v", c.ACL, c.Auth, c.Log, c.PAC)
	}
	if d := Default(); d.Log.Path != "-" || d.Log.Format != "squid" || d.Auth.CacheTTL.String() != "5m" {
		t.Errorf("defaults: got log %+v, auth %+v", d.Log, d.Auth)
	}
}

func TestPolicyKeyErrors(t *testing.T) {
	for _, tc := range []struct {
		yaml, key string
		line      int
	}{
		{"rules:\n  - action: deny\n    domainz: [a.example]\n", "rules[0].domainz", 3},
		{"rules:\n  - action: maybe\n", "rules", 0},
		{"rules:\n  - action: deny\n    url_regex: ['(']\n", "rules", 0},
		{"log:\n  format: json\n", "log.format", 2},
		{"auth:\n  realm: 'a\"b'\n", "auth.realm", 2},
	} {
		t.Run(tc.key, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "e.yaml")
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want *Error", err)
			}
			if e.Key != tc.key || (tc.line != 0 && e.Line != tc.line) {
				t.Errorf("got key %q line %d, want %q line %d (%v)", e.Key, e.Line, tc.key, tc.line, err)
			}
		})
	}
}
