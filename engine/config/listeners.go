package config

import (
	"net"
)

// ListenerMode says how a listener's clients reach the proxy.
type ListenerMode string

// Listener modes.
const (
	// ModeForward is a listener for clients configured to use a proxy:
	// absolute-form requests and CONNECT.
	ModeForward ListenerMode = "forward"
	// ModeIntercept is a listener that a NAT rule (nftables "redirect" or
	// "dnat", iptables REDIRECT or DNAT) sends connections to; the original
	// destination is read from the socket (SO_ORIGINAL_DST).
	ModeIntercept ListenerMode = "intercept"
	// ModeTproxy is an IP_TRANSPARENT listener that a TPROXY rule delivers
	// connections to unchanged; origin connections leave with the client's
	// own address.
	ModeTproxy ListenerMode = "tproxy"
)

// Listener is one address the proxy accepts clients on.
type Listener struct {
	// Address is the host:port to listen on; an empty host listens on
	// every interface.
	Address string `yaml:"address"`
	// Mode is forward, intercept or tproxy. If empty, forward is used.
	Mode ListenerMode `yaml:"mode"`
}

// AllListeners is the listeners the proxy opens: Listeners when set, else
// one forward listener on Listen (the old key keeps working). Call it on a
// validated Config.
func (c *Config) AllListeners() []Listener {
	if len(c.Listeners) > 0 {
		return c.Listeners
	}
	return []Listener{{Address: c.Listen, Mode: ModeForward}}
}

// Intercepts reports whether any listener receives intercepted traffic.
func (c *Config) Intercepts() bool {
	for _, l := range c.Listeners {
		if l.Mode == ModeIntercept || l.Mode == ModeTproxy {
			return true
		}
	}
	return false
}

// validateListeners fills in the listener modes and checks the list: valid
// addresses, distinct ports (a connection is told apart by the port it
// arrived on), at least one listener that is not tproxy (the event loops
// accept on those; tproxy listeners are accepted beside them), and no
// proxy authentication together with interception, which cannot work.
func (c *Config) validateListeners() error {
	if len(c.Listeners) == 0 {
		return nil
	}
	ports := make(map[string]bool, len(c.Listeners))
	looped := false
	for i := range c.Listeners {
		l := &c.Listeners[i]
		key := "listeners"
		if l.Mode == "" {
			l.Mode = ModeForward
		}
		switch l.Mode {
		case ModeForward, ModeIntercept, ModeTproxy:
		default:
			return invalid(key, "mode %q of %q is not one of forward, intercept, tproxy", string(l.Mode), l.Address)
		}
		if err := checkAddr(key, l.Address, "{address: \":3129\", mode: intercept}"); err != nil {
			return err
		}
		_, port, _ := net.SplitHostPort(l.Address)
		if port == "0" && l.Mode != ModeForward {
			return invalid(key, "%q: an %s listener needs a fixed port, which the firewall rules name", l.Address, l.Mode)
		}
		if ports[port] && port != "0" {
			return invalid(key, "port %s is used by two listeners: each needs its own port", port)
		}
		ports[port] = true
		if l.Mode != ModeTproxy {
			looped = true
		}
		if c.Admin != AdminOff && l.Address == c.Admin {
			return invalid(key, "%q is also the admin address", l.Address)
		}
	}
	if !looped {
		return invalid("listeners", "at least one listener must be forward or intercept: tproxy listeners are served beside those")
	}
	if c.Intercepts() && (c.Auth.BasicFile != "" || c.Auth.DigestFile != "") {
		return invalid("listeners", "proxy authentication (auth.basic_file, auth.digest_file) cannot work with an intercept or tproxy listener: "+
			"intercepted clients do not know there is a proxy and never send Proxy-Authorization; remove one or the other")
	}
	return nil
}
