package config

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"edgeproxy/cache/prefetch"
	"edgeproxy/engine/acl"
)

// maxNameLen bounds Config.Name, which is copied into every response's Via
// and X-Cache headers.
const maxNameLen = 255

// Validate fills every zero field of c with its default, then checks every
// value and the rules that tie fields together. It stops at the first problem
// and returns it as an *Error naming the key (File and Line are left for
// Parse to fill in). Validate is idempotent: a validated Config validates
// again unchanged.
func (c *Config) Validate() error {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:3128"
	}
	if err := checkAddr("listen", c.Listen, "127.0.0.1:3128 or :3128"); err != nil {
		return err
	}
	if c.Admin == "" {
		c.Admin = "127.0.0.1:9128"
	}
	if c.Admin != AdminOff {
		if err := checkAddr("admin", c.Admin, `127.0.0.1:9128, or "off" to disable it`); err != nil {
			return err
		}
		if c.Admin == c.Listen {
			return invalid("admin", "%q is also the listen address", c.Admin)
		}
	}
	if err := c.validateCluster(); err != nil {
		return err
	}
	if c.Name == "" {
		c.Name = hostName()
	}
	if !validName(c.Name) {
		return invalid("name", "%q is not a token of at most %d bytes (letters, digits and !#$%%&'*+-.^_`|~, no spaces or commas)",
			c.Name, maxNameLen)
	}
	if err := intIn("workers", &c.Workers, 1024, 1, 1_000_000); err != nil {
		return err
	}
	if err := intIn("event_loops", &c.EventLoops, 0, 0, 256); err != nil {
		return err
	}
	switch c.ForwardedFor {
	case "":
		c.ForwardedFor = ForwardedOn
	case ForwardedOn, ForwardedOff, ForwardedTransparent, ForwardedDelete:
	default:
		return invalid("forwarded_for", "%q is not one of on, off, transparent, delete", string(c.ForwardedFor))
	}

	t := &c.Timeouts
	for _, d := range []struct {
		key string
		p   *Duration
		def Duration
	}{
		{"timeouts.client_header", &t.ClientHeader, Duration(30 * time.Second)},
		{"timeouts.keepalive_idle", &t.KeepaliveIdle, Duration(60 * time.Second)},
		{"timeouts.origin_connect", &t.OriginConnect, Duration(10 * time.Second)},
		{"timeouts.origin_first_byte", &t.OriginFirstByte, Duration(60 * time.Second)},
		{"timeouts.client_body", &t.ClientBody, Duration(20 * time.Second)},
		{"timeouts.origin_idle", &t.OriginIdle, Duration(120 * time.Second)},
		{"timeouts.drain", &t.Drain, Duration(30 * time.Second)},
	} {
		if err := positive(d.key, d.p, d.def); err != nil {
			return err
		}
	}

	l := &c.Limits
	if err := sizeIn("limits.max_header_bytes", &l.MaxHeaderBytes, 64*KiB, KiB, MiB); err != nil {
		return err
	}
	if err := sizeIn("limits.max_request_line", &l.MaxRequestLine, 8*KiB, 256, l.MaxHeaderBytes); err != nil {
		return err
	}
	if err := sizeIn("limits.max_response_header", &l.MaxResponseHeader, 64*KiB, KiB, MiB); err != nil {
		return err
	}
	if err := intIn("limits.max_headers", &l.MaxHeaders, 100, 1, 10_000); err != nil {
		return err
	}
	if err := intIn("limits.max_connections", &l.MaxConnections, 10_000, 1, 10_000_000); err != nil {
		return err
	}
	if err := sizeIn("limits.max_body_buffer", &l.MaxBodyBuffer, 64*KiB, 1, 16*MiB); err != nil {
		return err
	}
	if err := sizeIn("limits.max_pipeline", &l.MaxPipeline, 256*KiB, 1, 16*MiB); err != nil {
		return err
	}
	if err := intIn("limits.max_connections_per_client", &l.MaxConnectionsPerClient, 0, 0, l.MaxConnections); err != nil {
		return err
	}
	// Zero stays zero: the share follows workers (settings compute it), so a
	// validated default still fits when workers changes.
	if err := intIn("limits.max_workers_per_client", &l.MaxWorkersPerClient, 0, 0, c.Workers); err != nil {
		return err
	}
	if err := sizeIn("limits.min_body_rate", &l.MinBodyRate, 500, 1, GiB); err != nil {
		return err
	}

	if c.Tunnel.AllowedPorts == nil {
		c.Tunnel.AllowedPorts = &[]int{443}
	}
	for i, p := range *c.Tunnel.AllowedPorts {
		if p < 1 || p > 65535 {
			return invalid(fmt.Sprintf("tunnel.allowed_ports[%d]", i), "%d is not a port (1 to 65535)", p)
		}
	}

	if c.FTP.AllowedPorts == nil {
		c.FTP.AllowedPorts = &[]int{21}
	}
	if c.Gopher.AllowedPorts == nil {
		c.Gopher.AllowedPorts = &[]int{70}
	}
	for _, l := range []struct {
		key   string
		ports []int
	}{{"ftp.allowed_ports", *c.FTP.AllowedPorts}, {"gopher.allowed_ports", *c.Gopher.AllowedPorts}} {
		for i, p := range l.ports {
			if p < 1 || p > 65535 {
				return invalid(fmt.Sprintf("%s[%d]", l.key, i), "%d is not a port (1 to 65535)", p)
			}
		}
	}
	if c.FTP.AnonymousPassword == "" {
		c.FTP.AnonymousPassword = "edgeproxy@"
	}
	if strings.ContainsAny(c.FTP.AnonymousPassword, "\r\n\x00") {
		return invalid("ftp.anonymous_password", "holds a CR, LF or NUL")
	}
	if err := positive("gopher.max_age", &c.Gopher.MaxAge, Duration(5*time.Minute)); err != nil {
		return err
	}

	k := &c.Cache
	if k.Enabled == nil {
		k.Enabled = new(true)
	}
	if err := sizeIn("cache.memory", &k.Memory, 256*MiB, MiB, math.MaxInt64); err != nil {
		return err
	}
	if err := sizeIn("cache.large_memory", &k.LargeMemory, GiB, MiB, math.MaxInt64); err != nil {
		return err
	}
	// Issue 13: the default max_object follows a small large_memory down;
	// only a max_object that was set can conflict with it.
	if k.MaxObject == 0 || k.MaxObject == k.maxObjectDefault {
		k.MaxObject = min(64*MiB, k.LargeMemory)
		k.maxObjectDefault = k.MaxObject
	}
	if err := sizeIn("cache.max_object", &k.MaxObject, 64*MiB, 1, math.MaxInt64); err != nil {
		return err
	}
	if k.MaxObject > k.LargeMemory {
		return invalid("cache.max_object", "%s is larger than cache.large_memory (%s)", k.MaxObject, k.LargeMemory)
	}
	for i := range k.RefreshRules {
		r := &k.RefreshRules[i]
		key := fmt.Sprintf("cache.refresh_rules[%d]", i)
		if r.Pattern == "" {
			return invalid(key+".pattern", "is required")
		}
		if _, err := r.Regexp(); err != nil {
			return invalid(key+".pattern", "%q is not a regular expression: %v", r.Pattern, err)
		}
		if r.Percent < 0 || r.Percent > 100 {
			return invalid(key+".percent", "%d is out of range (0 to 100)", r.Percent)
		}
		if r.Min < 0 || r.Max < 0 {
			return invalid(key, "min and max may not be negative")
		}
		if r.Max < r.Min {
			return invalid(key+".max", "%s is less than min (%s)", r.Max, r.Min)
		}
	}
	switch k.Policy {
	case "":
		k.Policy = CachePolicyEdge
	case CachePolicyEdge, CachePolicyLRU:
	default:
		return invalid("cache.policy", "%q is not a policy (edge or lru)", k.Policy)
	}
	if k.HeuristicPercent == nil {
		k.HeuristicPercent = new(10)
	}
	if p := *k.HeuristicPercent; p < 0 || p > 100 {
		return invalid("cache.heuristic_percent", "%d is out of range (0 to 100)", p)
	}
	if err := positive("cache.heuristic_max", &k.HeuristicMax, Duration(24*time.Hour)); err != nil {
		return err
	}
	if k.Admission == nil {
		k.Admission = new(true)
	}
	if k.QuickAbortMin == nil {
		k.QuickAbortMin = new(16 * KiB)
	}
	if k.QuickAbortMax == nil {
		k.QuickAbortMax = new(16 * KiB)
	}
	if k.QuickAbortPct == nil {
		k.QuickAbortPct = new(95)
	}
	if p := *k.QuickAbortPct; p < 0 || p > 100 {
		return invalid("cache.quick_abort_pct", "%d is out of range (0 to 100)", p)
	}
	if err := k.validateDirs(); err != nil {
		return err
	}
	if err := c.validateEfficiency(); err != nil {
		return err
	}
	if err := c.validatePolicy(); err != nil {
		return err
	}
	return c.validateListeners()
}

// validatePolicy checks the access-control, authentication and logging keys.
// The files they name are read by the engine at start-up and on reload.
func (c *Config) validatePolicy() error {
	if _, err := acl.Compile(c.Rules); err != nil {
		return invalid("rules", "%v", err)
	}
	if c.ACL.SafePorts == nil {
		c.ACL.SafePorts = new(slices.Clone(acl.DefaultSafePorts))
	}
	for i, e := range *c.ACL.SafePorts {
		if _, err := acl.ParsePorts([]string{e}); err != nil {
			return invalid(fmt.Sprintf("acl.safe_ports[%d]", i), "%q is not a port or a range of ports (write 443 or 1025-65535, within 1 to 65535)", e)
		}
	}
	if c.Auth.Realm == "" {
		c.Auth.Realm = "edgeproxy"
	}
	if strings.ContainsAny(c.Auth.Realm, "\"\\\r\n") {
		return invalid("auth.realm", "%q may not contain quotes, backslashes or line breaks", c.Auth.Realm)
	}
	if err := positive("auth.cache_ttl", &c.Auth.CacheTTL, Duration(5*time.Minute)); err != nil {
		return err
	}
	if err := intIn("auth.max_failures", &c.Auth.MaxFailures, 10, 1, 1_000_000); err != nil {
		return err
	}
	if err := positive("auth.failure_window", &c.Auth.FailureWindow, Duration(time.Minute)); err != nil {
		return err
	}
	if w := c.Auth.HashWorkers; w < 0 || w > 1024 {
		return invalid("auth.hash_workers", "%d is out of range (1 to 1024, or 0 for half the CPUs)", w)
	}
	if err := intIn("auth.hash_queue", &c.Auth.HashQueue, 64, 1, 1_000_000); err != nil {
		return err
	}
	switch c.Log.Format {
	case "":
		c.Log.Format = "squid"
	case "squid", "common", "combined":
	default:
		return invalid("log.format", "%q is not one of squid, common, combined", c.Log.Format)
	}
	if c.Log.Path == "" {
		c.Log.Path = "-"
	}
	for i, d := range c.PAC.DirectDomains {
		if d == "" || strings.ContainsAny(d, " \"'\\/:") {
			return invalid(fmt.Sprintf("pac.direct_domains[%d]", i), "%q is not a domain name", d)
		}
	}
	return nil
}

// validateEfficiency checks the refresh-ahead and prefetch keys.
func (c *Config) validateEfficiency() error {
	r := &c.RefreshAhead
	if r.Enabled == nil {
		r.Enabled = new(true)
	}
	if err := floatIn("refresh_ahead.min_rate", &r.MinRate, 0.5, 0, math.Inf(1)); err != nil {
		return err
	}
	if err := intIn("refresh_ahead.lead_percent", &r.LeadPercent, 10, 1, 50); err != nil {
		return err
	}
	if err := intIn("refresh_ahead.max_concurrent", &r.MaxConcurrent, 8, 1, 10_000); err != nil {
		return err
	}
	if err := sizeIn("refresh_ahead.max_bandwidth", &r.MaxBandwidth, 10*MiB, 1, math.MaxInt64); err != nil {
		return err
	}
	if err := floatIn("refresh_ahead.max_load", &r.MaxLoad, 0.5, 0, 1); err != nil {
		return err
	}
	p := &c.Prefetch
	if err := intIn("prefetch.window", &p.Window, prefetch.DefaultWindow, 1, prefetch.MaxWindow); err != nil {
		return err
	}
	if err := floatIn("prefetch.threshold", &p.Threshold, prefetch.DefaultThreshold, 0, 1); err != nil {
		return err
	}
	if err := intIn("prefetch.min_count", &p.MinCount, prefetch.DefaultMinCount, 1, 1_000_000); err != nil {
		return err
	}
	if p.Span == 0 {
		p.Span = Duration(prefetch.DefaultSpan)
	}
	if p.Proof == 0 {
		p.Proof = prefetch.DefaultProof
	}
	if p.Proof > 1_000_000 {
		return invalid("prefetch.proof", "%d is out of range (at most %d; negative: none)", p.Proof, 1_000_000)
	}
	if p.ClientPrecision == 0 {
		p.ClientPrecision = prefetch.DefaultClientPrecision
	}
	if p.ClientPrecision > 1 || math.IsNaN(p.ClientPrecision) {
		return invalid("prefetch.client_precision", "%g is out of range (at most 1; negative: none)", p.ClientPrecision)
	}
	if p.Schedule == "" {
		p.Schedule = prefetch.AnyTime
	}
	if _, err := prefetch.ParseSchedule(p.Schedule); err != nil {
		return invalid("prefetch.schedule", "%v (write %q, or ranges such as 22:00-06:00)", err, prefetch.AnyTime)
	}
	if err := sizeIn("prefetch.max_bandwidth", &p.MaxBandwidth, 5*MiB, 1, math.MaxInt64); err != nil {
		return err
	}
	if err := sizeIn("prefetch.max_object", &p.MaxObject, prefetch.DefaultMaxObject, 1, math.MaxInt64); err != nil {
		return err
	}
	if err := intIn("prefetch.max_concurrent", &p.MaxConcurrent, 4, 1, 10_000); err != nil {
		return err
	}
	if err := floatIn("prefetch.max_load", &p.MaxLoad, 0.5, 0, 1); err != nil {
		return err
	}
	return intIn("prefetch.max_nodes", &p.MaxNodes, prefetch.DefaultMaxNodes, 16, 1<<24)
}

// floatIn sets *p to def if it is zero, then checks lo < *p <= hi.
func floatIn(key string, p *float64, def, lo, hi float64) error {
	if *p == 0 {
		*p = def
	}
	if *p <= lo || *p > hi || math.IsInf(*p, 0) {
		if math.IsInf(hi, 1) {
			return invalid(key, "%g is out of range (above %g)", *p, lo)
		}
		return invalid(key, "%g is out of range (above %g, at most %g)", *p, lo, hi)
	}
	return nil
}

// invalid returns an *Error for key with a formatted reason.
func invalid(key, format string, args ...any) *Error {
	return &Error{Key: key, Reason: fmt.Sprintf(format, args...)}
}

// intIn sets *p to def if it is zero, then checks lo <= *p <= hi.
func intIn(key string, p *int, def, lo, hi int) error {
	if *p == 0 {
		*p = def
	}
	if *p < lo || *p > hi {
		return invalid(key, "%d is out of range (%d to %d)", *p, lo, hi)
	}
	return nil
}

// sizeIn sets *p to def if it is zero, then checks lo <= *p <= hi; an hi of
// math.MaxInt64 means no upper bound.
func sizeIn(key string, p *Size, def, lo, hi Size) error {
	if *p == 0 {
		*p = def
	}
	switch {
	case *p < lo && hi == math.MaxInt64:
		return invalid(key, "%s is below the minimum, %s", *p, lo)
	case *p < lo || *p > hi:
		return invalid(key, "%s is out of range (%s to %s)", *p, lo, hi)
	}
	return nil
}

// positive sets *p to def if it is zero, then checks that it is positive.
func positive(key string, p *Duration, def Duration) error {
	if *p == 0 {
		*p = def
	}
	if *p < 0 {
		return invalid(key, "%s is negative; it must be greater than zero", *p)
	}
	return nil
}

// checkAddr checks that addr is host:port with a numeric port; the host may
// be empty (every interface), an IP address or a host name.
func checkAddr(key, addr, example string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return invalid(key, "%q is not host:port (write %s)", addr, example)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return invalid(key, "%q: port %q is not a number from 0 to 65535", addr, port)
	}
	if host != "" && !validHost(host) {
		return invalid(key, "%q: %q is not an IP address or host name", addr, host)
	}
	return nil
}

// validHost reports whether h is an IP address (with an optional zone) or a
// plausible DNS name: letters, digits, dots, hyphens and underscores.
func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	if len(h) > 253 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validName reports whether s can be the proxy's name in Via and X-Cache:
// an HTTP token (RFC 9110 §5.6.2) of at most maxNameLen bytes. The check is
// written out here rather than borrowed from codec so that reading a
// configuration does not depend on the HTTP parser.
func validName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
