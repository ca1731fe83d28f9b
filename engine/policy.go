package engine

import (
	"errors"
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

	// warnings are what the files hold that will not work as the operator
	// may expect (skipped htpasswd lines, users in one password file only);
	// New, Check and Reload log them.
	warnings []string
}

// buildPolicy reads the files cfg names. prev, when not nil, is the policy
// in force: its authenticator keeps its nonce key and replay state across
// the reload. An error is a *config.Error naming the key whose file is at
// fault (its File is left for the caller, who knows the configuration file).
func buildPolicy(cfg *config.Config, prev *policy) (*policy, error) {
	p := &policy{clients: &acl.ClientPolicy{}, direct: cfg.PAC.DirectDomains}
	var err error
	if cfg.ACL.AllowFile != "" {
		if p.clients.Allow, err = acl.LoadPrefixFile(cfg.ACL.AllowFile); err != nil {
			return nil, keyError("acl.allow_file", err)
		}
	}
	if cfg.ACL.DenyFile != "" {
		if p.clients.Deny, err = acl.LoadPrefixFile(cfg.ACL.DenyFile); err != nil {
			return nil, keyError("acl.deny_file", err)
		}
	}
	if cfg.ACL.AdminFile != "" {
		if p.admin, err = acl.LoadPrefixFile(cfg.ACL.AdminFile); err != nil {
			return nil, keyError("acl.admin_file", err)
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
			return nil, keyError("rules", err)
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
			return nil, keyError(authKey(&cfg.Auth, err), err)
		}
		p.warnings = append(p.warnings, p.auth.Warnings()...)
	}
	p.pac = pacTemplate(cfg.PAC.DirectDomains)
	if cfg.PAC.Cluster {
		if p.pac, err = clusterPAC(cfg); err != nil {
			return nil, keyError("pac.cluster", err)
		}
	}
	p.pages = errpage.Default()
	if dir := cfg.Errors.TemplateDir; dir != "" {
		if p.pages, err = errpage.Load(dir); err != nil {
			return nil, fmt.Errorf("errors.template_dir: %w", err)
		}
	}
	return p, nil
}

// authKey is the auth.* key an authenticator error concerns.
func authKey(a *config.Auth, err error) string {
	var fe *auth.FileError
	switch {
	case errors.As(err, &fe) && fe.File == a.BasicFile:
		return "auth.basic_file"
	case errors.As(err, &fe) && fe.File == a.DigestFile:
		return "auth.digest_file"
	case errors.Is(err, auth.ErrRealm):
		return "auth.realm"
	}
	return "auth"
}

// keyError reports err, about the value of the configuration key, as a
// *config.Error, so that it prints as "file: key: reason" once the caller
// has named the file.
func keyError(key string, err error) *config.Error {
	return &config.Error{Key: key, Reason: err.Error(), Err: err}
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
