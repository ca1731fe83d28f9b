package acl

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const exampleYAML = `
rules:
  - action: deny
    domains: [ads.example.com]
  - action: deny
    url_regex: ['\.exe$']
  - action: allow
    users: [alice]
    ports: [443, 8443]
  - action: deny
    name: no-metadata
    dst: [169.254.169.254, 'fd00:ec2::254']
  - action: allow
    methods: [GET, HEAD]
    domains: [Example.ORG.]
`

func compileYAML(t *testing.T, src string) *Rules {
	t.Helper()
	var doc struct {
		Rules []RuleConfig `yaml:"rules"`
	}
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	rs, err := Compile(doc.Rules)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return rs
}

func req(method, url, host string, port int, user string) *Request {
	return &Request{Method: []byte(method), URL: []byte(url), Host: []byte(host), Port: port, User: user, Connect: method == "CONNECT"}
}

func TestRulesCheck(t *testing.T) {
	rs := compileYAML(t, exampleYAML)
	tests := []struct {
		name      string
		req       *Request
		wantAllow bool
		wantRule  string
	}{
		{"denied domain", req("GET", "http://ads.example.com/x", "ads.example.com", 0, "alice"), false, "rules[0]"},
		{"denied subdomain, any case", req("GET", "http://A.B.Ads.Example.COM./x", "A.B.Ads.Example.COM.", 0, "alice"), false, "rules[0]"},
		{"parent domain not covered", req("GET", "https://example.com/", "example.com", 0, "alice"), true, "rules[2]"},
		{"lookalike not covered", req("CONNECT", "badads.example.com:443", "badads.example.com", 443, "alice"), true, "rules[2]"},
		{"regex", req("GET", "http://dl.example.net/setup.exe", "dl.example.net", 0, "alice"), false, "rules[1]"},
		{"regex is case-sensitive", req("GET", "http://dl.example.net/SETUP.EXE", "dl.example.net", 0, "alice"), false, "default"},
		{"user and default https port", req("GET", "https://x.test/", "x.test", 0, "alice"), true, "rules[2]"},
		{"user and CONNECT port", req("CONNECT", "x.test:8443", "x.test", 8443, "alice"), true, "rules[2]"},
		{"user on port 80 falls through", req("GET", "http://x.test/", "x.test", 0, "alice"), false, "default"},
		{"other user", req("GET", "https://x.test/", "x.test", 0, "bob"), false, "default"},
		{"user names are case-sensitive", req("GET", "https://x.test/", "x.test", 0, "Alice"), false, "default"},
		{"named rule on IP literal", req("GET", "http://169.254.169.254/latest", "169.254.169.254", 0, "bob"), false, "no-metadata"},
		{"named rule on bracketed v6", req("GET", "http://[fd00:ec2::254]/", "[fd00:ec2::254]", 0, "bob"), false, "no-metadata"},
		{"dst never matches a name", req("GET", "http://metadata.internal/", "metadata.internal", 0, "bob"), false, "default"},
		{"method and domain", req("HEAD", "http://www.example.org/", "www.example.org", 0, ""), true, "rules[4]"},
		{"methods are case-sensitive", req("get", "http://www.example.org/", "www.example.org", 0, ""), false, "default"},
		{"method but other domain", req("GET", "http://example.net/", "example.net", 0, ""), false, "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			allowed, rule := rs.Check(tt.req)
			if allowed != tt.wantAllow || rule != tt.wantRule {
				t.Errorf("got %v %q, want %v %q", allowed, rule, tt.wantAllow, tt.wantRule)
			}
		})
	}
}

func TestRulesDefault(t *testing.T) {
	r := req("GET", "http://x.test/", "x.test", 0, "")
	tests := []struct {
		name  string
		rules []RuleConfig
		want  bool
	}{
		{"no rules allow everything", nil, true},
		{"last deny means default allow", []RuleConfig{{Action: "deny", Domains: []string{"y.test"}}}, true},
		{"last allow means default deny", []RuleConfig{{Action: "allow", Domains: []string{"y.test"}}}, false},
		{"empty rule matches everything", []RuleConfig{{Action: "deny"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := Compile(tt.rules)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := rs.Check(r); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	var nilRules *Rules
	if got, rule := nilRules.Check(r); !got || rule != DefaultRuleName {
		t.Errorf("nil Rules: got %v %q, want true %q", got, rule, DefaultRuleName)
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name    string
		rules   []RuleConfig
		wantErr error
		wantMsg string
	}{
		{"action", []RuleConfig{{Action: "allow"}, {Action: "permit"}}, ErrAction, `rules[1].action "permit"`},
		{"missing action", []RuleConfig{{}}, ErrAction, `rules[0].action ""`},
		{"domain label", []RuleConfig{{Action: "deny", Domains: []string{"ok.test", "a..b"}}}, ErrDomain, `rules[0].domains[1] "a..b"`},
		{"domain byte", []RuleConfig{{Action: "deny", Domains: []string{"ex ample.com"}}}, ErrDomain, `rules[0].domains[0]`},
		{"domain empty", []RuleConfig{{Action: "deny", Domains: []string{"."}}}, ErrDomain, `rules[0].domains[0] "."`},
		{"regex", []RuleConfig{{Action: "deny", URLRegex: []string{"(unclosed"}}}, ErrRegex, `rules[0].url_regex[0] "(unclosed"`},
		{"dst", []RuleConfig{{Action: "deny", Dst: []string{"10.0.0.0/8", "10.0.0.0/40"}}}, ErrPrefix, `rules[0].dst[1] "10.0.0.0/40"`},
		{"port", []RuleConfig{{Action: "deny", Ports: []int{443, 0}}}, ErrPort, `rules[0].ports[1] "0"`},
		{"port high", []RuleConfig{{Action: "deny", Ports: []int{65536}}}, ErrPort, `rules[0].ports[0] "65536"`},
		{"method", []RuleConfig{{Action: "deny", Methods: []string{"GE T"}}}, ErrMethod, `rules[0].methods[0] "GE T"`},
		{"user", []RuleConfig{{Action: "deny", Users: []string{""}}}, ErrUser, `rules[0].users[0] ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.rules)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), tt.wantMsg) {
				t.Errorf("got %q, want prefix %q", err.Error(), tt.wantMsg)
			}
		})
	}
}

// manyDomainRules returns a deny rule of n domains followed by an allow rule.
func manyDomainRules(t testing.TB, n int) *Rules {
	domains := make([]string, n)
	for i := range domains {
		domains[i] = "tracker" + strconv.Itoa(i) + ".example.com"
	}
	rs, err := Compile([]RuleConfig{
		{Action: "deny", Domains: domains},
		{Action: "deny", Dst: []string{"169.254.0.0/16", "fe80::/10"}},
		{Action: "allow", Ports: []int{80, 443}, Methods: []string{"GET", "CONNECT"}, Users: []string{"alice"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestRulesCheckAllocs(t *testing.T) {
	rs := manyDomainRules(t, 5000)
	reqs := []*Request{
		req("GET", "http://a.b.tracker4999.example.com/", "a.b.TRACKER4999.example.com", 0, "alice"),
		req("GET", "http://www.example.net/", "www.example.net", 0, "alice"),
		req("GET", "http://[2001:db8::1]/", "[2001:db8::1]", 0, "alice"),
		req("CONNECT", "10.0.0.1:443", "10.0.0.1", 443, "bob"),
	}
	for _, r := range reqs {
		if n := testing.AllocsPerRun(1000, func() { rs.Check(r) }); n != 0 {
			t.Errorf("Check(%s): got %v allocations, want 0", r.URL, n)
		}
	}
}

func BenchmarkRulesCheck(b *testing.B) {
	for _, n := range []int{10, 10000} {
		rs := manyDomainRules(b, n)
		r := req("GET", "http://cdn.assets.www.example.net/app.js", "cdn.assets.www.example.net", 0, "alice")
		b.Run("domains="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rs.Check(r)
			}
		})
	}
	rs, err := Compile([]RuleConfig{{Action: "deny", URLRegex: []string{`\.exe$`, `^https?://[^/]*\.ads\.`, `/banner[0-9]+\.`}}})
	if err != nil {
		b.Fatal(err)
	}
	r := req("GET", "http://cdn.assets.www.example.net/static/js/app.min.js?v=1234567", "cdn.assets.www.example.net", 0, "")
	b.Run("regex", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rs.Check(r)
		}
	})
}
