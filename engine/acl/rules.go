package acl

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"edgeproxy/codec"
)

// RuleConfig is one entry of the configuration's `rules:` list, as the config
// package decodes it from YAML. Every non-empty criterion must match for the
// rule to apply; within one criterion any listed value matches.
type RuleConfig struct {
	// Action is "allow" or "deny".
	Action string `yaml:"action"`
	// Domains match the destination host and its subdomains, ignoring case
	// and a trailing dot: "example.com" matches "example.com" and
	// "ads.example.com" but not "badexample.com".
	Domains []string `yaml:"domains"`
	// URLRegex are Go regular expressions (RE2 syntax), matched anywhere in
	// the absolute request URL; anchor them with ^ and $ as needed. They are
	// case-sensitive unless they start with (?i). For CONNECT the URL is the
	// authority-form target, "host:port".
	URLRegex []string `yaml:"url_regex"`
	// Dst lists IP addresses and CIDR prefixes matched against the
	// destination address: the host itself when it is an IP address in any
	// spelling (see HostAddr), otherwise each address the host name
	// resolves to, checked when the proxy connects (see Rules.Decide). An
	// unspecified address (0.0.0.0, ::) reaches this machine's loopback
	// interface, so it also matches a prefix holding 127.0.0.1 or ::1.
	Dst []string `yaml:"dst"`
	// Ports match the destination port.
	Ports []int `yaml:"ports"`
	// Methods match the request method exactly; methods are case-sensitive
	// (RFC 9110 §9.1).
	Methods []string `yaml:"methods"`
	// Users match the authenticated user name exactly.
	Users []string `yaml:"users"`
	// Name labels the rule on refusal pages and in logs. If empty,
	// "rules[i]" is used, i being the rule's index.
	Name string `yaml:"name"`
}

// Request is what Check needs to know about a request. The engine fills it
// from the parsed request head; the slices are only read during Check.
type Request struct {
	// Method is the request method as sent.
	Method []byte
	// URL is the absolute URL ("http://host/path?q"), or for CONNECT the
	// authority ("host:443").
	URL []byte
	// Host is the destination host without port; an IPv6 literal may keep
	// its brackets.
	Host []byte
	// Port is the destination port. If zero, 443 is used for CONNECT and for
	// an https URL, 80 otherwise.
	Port int
	// User is the authenticated user name, or "" when none.
	User string
	// Connect marks a CONNECT request.
	Connect bool
	// Addr is the address the host resolved to, when the proxy knows it;
	// dst criteria use it for a host name. The zero Addr means unresolved.
	Addr netip.Addr
}

// Verdict is the outcome of Decide.
type Verdict uint8

// Verdicts.
const (
	// Deny refuses the request.
	Deny Verdict = iota
	// Allow lets the request through.
	Allow
	// NeedAddr means the first rule that could decide has a dst criterion
	// and the host is a name not yet resolved: decide again with
	// Request.Addr set to each address the proxy would connect to.
	NeedAddr
)

// Rules is an ordered list of compiled rules. It is read-only after Compile
// and safe for concurrent use.
type Rules struct {
	rules []rule
	// deflt is the verdict when no rule matches: allow with no rules,
	// otherwise the opposite of the last rule's action, as in Squid's
	// http_access.
	deflt bool
	// needHost and needIP say whether any rule looks at the host name or at
	// a destination IP literal, so Check skips the work otherwise.
	needHost, needIP bool
}

// DefaultRuleName is the name Check reports when no rule matched.
const DefaultRuleName = "default"

// rule is one compiled RuleConfig.
type rule struct {
	name    string
	allow   bool
	domains domainSet
	re      *regexp.Regexp // all url_regex entries as one alternation
	dst     *PrefixSet
	ports   map[int]struct{}
	methods []string
	users   []string
}

// Compile validates and compiles rules in order. An error names the rule
// index and field, quotes the bad value and wraps one of the Err* sentinels.
//
// When no rule matches a request, the verdict is the opposite of the last
// rule's action (a list ending in allow rules denies everything else, one
// ending in deny rules allows it), as in Squid; with no rules at all
// everything is allowed.
func Compile(rules []RuleConfig) (*Rules, error) {
	rs := &Rules{rules: make([]rule, 0, len(rules)), deflt: true}
	for i := range rules {
		r, err := compileRule(i, &rules[i])
		if err != nil {
			return nil, err
		}
		rs.rules = append(rs.rules, r)
		rs.deflt = !r.allow
		rs.needHost = rs.needHost || r.domains != nil
		rs.needIP = rs.needIP || r.dst != nil
	}
	return rs, nil
}

func compileRule(i int, c *RuleConfig) (rule, error) {
	at := func(field string, j int, v any, err error) error {
		return fmt.Errorf("rules[%d].%s[%d] %q: %w", i, field, j, fmt.Sprint(v), err)
	}
	r := rule{name: c.Name}
	if r.name == "" {
		r.name = "rules[" + strconv.Itoa(i) + "]"
	}
	switch strings.ToLower(c.Action) {
	case "allow":
		r.allow = true
	case "deny":
	default:
		return rule{}, fmt.Errorf("rules[%d].action %q: %w", i, c.Action, ErrAction)
	}
	if len(c.Domains) > 0 {
		r.domains = make(domainSet, len(c.Domains))
		for j, d := range c.Domains {
			n, ok := normalizeDomain(d)
			if !ok {
				return rule{}, at("domains", j, d, ErrDomain)
			}
			r.domains[n] = struct{}{}
		}
	}
	if len(c.URLRegex) > 0 {
		var alt strings.Builder
		for j, expr := range c.URLRegex {
			if _, err := regexp.Compile(expr); err != nil {
				return rule{}, at("url_regex", j, expr, fmt.Errorf("%w: %v", ErrRegex, err))
			}
			if j > 0 {
				alt.WriteByte('|')
			}
			alt.WriteString("(?:" + expr + ")")
		}
		r.re = regexp.MustCompile(alt.String())
	}
	if len(c.Dst) > 0 {
		r.dst = new(PrefixSet)
		for j, d := range c.Dst {
			p, ok := parsePrefix(strings.TrimSpace(d))
			if !ok {
				return rule{}, at("dst", j, d, ErrPrefix)
			}
			r.dst.Insert(p)
		}
	}
	if len(c.Ports) > 0 {
		r.ports = make(map[int]struct{}, len(c.Ports))
		for j, p := range c.Ports {
			if p < 1 || p > 65535 {
				return rule{}, at("ports", j, p, ErrPort)
			}
			r.ports[p] = struct{}{}
		}
	}
	for j, m := range c.Methods {
		if !codec.IsToken([]byte(m)) {
			return rule{}, at("methods", j, m, ErrMethod)
		}
	}
	r.methods = c.Methods
	for j, u := range c.Users {
		if u == "" {
			return rule{}, at("users", j, u, ErrUser)
		}
	}
	r.users = c.Users
	return r, nil
}

// Len returns the number of rules.
func (rs *Rules) Len() int {
	if rs == nil {
		return 0
	}
	return len(rs.rules)
}

// Check returns the verdict for req and the name of the rule that decided it,
// or DefaultRuleName when none matched. A nil *Rules allows everything.
//
// Check does not allocate for rules without url_regex. A url_regex rule runs
// one RE2 match over the URL: time linear in the URL length times the size of
// the rule's combined expression, and no allocation once the regexp's
// internal machine pool is warm.
//
// A dst criterion on a host name without Addr does not match here; Decide
// says when such a rule needs the resolved address instead.
func (rs *Rules) Check(req *Request) (allowed bool, rule string) {
	v, name := rs.decide(req, false)
	return v == Allow, name
}

// Decide is Check for a request whose host name may not be resolved yet:
// when the first rule whose other criteria match has a dst criterion and
// neither the host nor req.Addr gives an address, it returns NeedAddr and
// that rule's name. The caller then resolves the name and decides once per
// address it may connect to. Decide does not allocate more than Check.
func (rs *Rules) Decide(req *Request) (Verdict, string) {
	return rs.decide(req, true)
}

func (rs *Rules) decide(req *Request, deferDst bool) (Verdict, string) {
	if rs == nil {
		return Allow, DefaultRuleName
	}
	var buf [maxHost]byte
	var host []byte
	if rs.needHost {
		host = lowerHost(&buf, req.Host)
	}
	var ip netip.Addr
	var isIP bool
	if rs.needIP {
		ip, isIP = HostAddr(req.Host)
		if !isIP && req.Addr.IsValid() {
			ip, isIP = req.Addr.Unmap(), true
		}
	}
	port := req.Port
	if port == 0 {
		port = 80
		if req.Connect || hasPrefixFold(req.URL, "https://") {
			port = 443
		}
	}
	for i := range rs.rules {
		r := &rs.rules[i]
		if deferDst && r.dst != nil && !isIP {
			if r.matchesExceptDst(req, host, port) {
				return NeedAddr, r.name
			}
			continue
		}
		if r.matches(req, host, ip, isIP, port) {
			if r.allow {
				return Allow, r.name
			}
			return Deny, r.name
		}
	}
	if rs.deflt {
		return Allow, DefaultRuleName
	}
	return Deny, DefaultRuleName
}

// matches reports whether every criterion r has matches the request.
func (r *rule) matches(req *Request, host []byte, ip netip.Addr, isIP bool, port int) bool {
	if r.dst != nil && !(isIP && r.dstContains(ip)) {
		return false
	}
	return r.matchesExceptDst(req, host, port)
}

// dstContains matches a destination address against the rule's dst. An
// unspecified address connects to the loopback interface, so it matches as
// loopback too.
func (r *rule) dstContains(ip netip.Addr) bool {
	if r.dst.Contains(ip) {
		return true
	}
	switch {
	case ip.Is4() && ip.As4()[0] == 0:
		return r.dst.Contains(netip.AddrFrom4([4]byte{127, 0, 0, 1}))
	case ip.IsUnspecified():
		return r.dst.Contains(netip.IPv6Loopback())
	}
	return false
}

// matchesExceptDst checks every criterion but dst.
func (r *rule) matchesExceptDst(req *Request, host []byte, port int) bool {
	if r.ports != nil {
		if _, ok := r.ports[port]; !ok {
			return false
		}
	}
	if r.methods != nil && !containsBytes(r.methods, req.Method) {
		return false
	}
	if r.users != nil && !containsString(r.users, req.User) {
		return false
	}
	if r.domains != nil && !r.domains.match(host) {
		return false
	}
	if r.re != nil && !r.re.Match(req.URL) {
		return false
	}
	return true
}

func containsBytes(list []string, b []byte) bool {
	for _, s := range list {
		if s == string(b) {
			return true
		}
	}
	return false
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// hasPrefixFold reports whether b starts with the lower-case ASCII prefix p,
// ignoring case.
func hasPrefixFold(b []byte, p string) bool {
	return len(b) >= len(p) && codec.EqualFold(b[:len(p)], p)
}
