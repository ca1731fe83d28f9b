package engine

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"edgeproxy/engine/acl"
	"edgeproxy/engine/auth"
	"edgeproxy/engine/config"
	"edgeproxy/engine/errpage"
)

// policy is the part of the configuration that a reload replaces without
// dropping a connection: who may connect, who they are, where they may go,
// and the PAC file. Requests read it through an atomic pointer; a policy is
// never changed once published.
type policy struct {
	clients   *acl.ClientPolicy
	admin     *acl.PrefixSet      // clients that may PURGE
	rules     *acl.Rules          // nil when there are no rules
	safePorts *acl.PortSet        // ports absolute-URI requests may reach
	auth      *auth.Authenticator // nil when no password file is configured
	pac       []byte              // body of /proxy.pac, without the proxy address
	direct    []string
	pages     *errpage.Set // HTML error pages, errors.template_dir over the built-in ones
}

// buildPolicy reads the files cfg names. prev, when not nil, is the policy
// in force: its authenticator keeps its nonce key and replay state across
// the reload.
func buildPolicy(cfg *config.Config, prev *policy) (*policy, error) {
	p := &policy{clients: &acl.ClientPolicy{}, direct: cfg.PAC.DirectDomains}
	var err error
	if cfg.ACL.AllowFile != "" {
		if p.clients.Allow, err = acl.LoadPrefixFile(cfg.ACL.AllowFile); err != nil {
			return nil, fmt.Errorf("acl.allow_file: %w", err)
		}
	}
	if cfg.ACL.DenyFile != "" {
		if p.clients.Deny, err = acl.LoadPrefixFile(cfg.ACL.DenyFile); err != nil {
			return nil, fmt.Errorf("acl.deny_file: %w", err)
		}
	}
	if cfg.ACL.AdminFile != "" {
		if p.admin, err = acl.LoadPrefixFile(cfg.ACL.AdminFile); err != nil {
			return nil, fmt.Errorf("acl.admin_file: %w", err)
		}
	} else {
		p.admin = loopback()
	}
	if cfg.ACL.SafePorts == nil {
		p.safePorts, err = acl.ParsePorts(acl.DefaultSafePorts)
	} else {
		p.safePorts, err = acl.ParsePorts(*cfg.ACL.SafePorts)
	}
	if err != nil {
		return nil, fmt.Errorf("acl.safe_ports: %w", err)
	}
	if len(cfg.Rules) > 0 {
		if p.rules, err = acl.Compile(cfg.Rules); err != nil {
			return nil, fmt.Errorf("rules: %w", err)
		}
	}
	if cfg.Auth.BasicFile != "" || cfg.Auth.DigestFile != "" {
		ac := auth.Config{
			Realm:      cfg.Auth.Realm,
			BasicFile:  cfg.Auth.BasicFile,
			DigestFile: cfg.Auth.DigestFile,
			CacheTTL:   cfg.Auth.CacheTTL.Std(),
		}
		if prev != nil && prev.auth != nil {
			p.auth, err = prev.auth.ReloadWith(ac)
		} else {
			p.auth, err = auth.New(ac)
		}
		if err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
	}
	p.pac = pacTemplate(cfg.PAC.DirectDomains)
	p.pages = errpage.Default()
	if dir := cfg.Errors.TemplateDir; dir != "" {
		if p.pages, err = errpage.Load(dir); err != nil {
			return nil, fmt.Errorf("errors.template_dir: %w", err)
		}
	}
	return p, nil
}

// pacTemplate is a proxy auto-configuration script; "%PROXY%" stands for the
// proxy's address as the client reached it.
func pacTemplate(direct []string) []byte {
	var b strings.Builder
	b.WriteString("function FindProxyForURL(url, host) {\n")
	b.WriteString("  if (isPlainHostName(host) || host == \"localhost\" || shExpMatch(host, \"127.*\")) return \"DIRECT\";\n")
	for _, d := range direct {
		d = strings.TrimPrefix(strings.TrimSuffix(d, "."), ".")
		fmt.Fprintf(&b, "  if (host == %s || dnsDomainIs(host, %s)) return \"DIRECT\";\n", strconv.Quote(d), strconv.Quote("."+d))
	}
	b.WriteString("  return \"PROXY %PROXY%; DIRECT\";\n}\n")
	return []byte(b.String())
}

// loopback is the default admin network: this machine only.
func loopback() *acl.PrefixSet {
	s := &acl.PrefixSet{}
	s.Insert(netip.MustParsePrefix("127.0.0.0/8"))
	s.Insert(netip.MustParsePrefix("::1/128"))
	return s
}
