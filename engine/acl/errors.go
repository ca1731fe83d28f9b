package acl

import "errors"

// Load and compile errors. Each is wrapped with the place it was found (a
// file and line, or a rule index and field) and the offending text, so
// errors.Is tells the kind and the message tells where.
var (
	// ErrPrefix means a line of an address list, or an entry of a rule's dst,
	// is neither an IP address nor a CIDR prefix.
	ErrPrefix = errors.New("acl: invalid address or prefix")
	// ErrAction means a rule's action is neither "allow" nor "deny".
	ErrAction = errors.New("acl: action must be allow or deny")
	// ErrDomain means a domain that is empty, has an empty label, or holds a
	// byte that cannot appear in a host name.
	ErrDomain = errors.New("acl: invalid domain")
	// ErrRegex means a url_regex entry that Go's regexp (RE2 syntax) rejects.
	ErrRegex = errors.New("acl: invalid URL regular expression")
	// ErrPort means a port outside 1–65535.
	ErrPort = errors.New("acl: port out of range")
	// ErrMethod means a method that is not an HTTP token (RFC 9110 §9.1).
	ErrMethod = errors.New("acl: invalid method")
	// ErrUser means an empty user name.
	ErrUser = errors.New("acl: empty user name")
)

// Destination refusals, returned by Destinations.Check and the Dialer. The
// engine answers both with 403.
var (
	// ErrLocalDestination means a loopback or unspecified destination
	// address (127.0.0.0/8, ::1, 0.0.0.0/8, ::, or an IPv4-mapped form),
	// refused unless acl.allow_local_destinations is set.
	ErrLocalDestination = errors.New("acl: destination is a loopback address")
	// ErrOwnAddress means a destination that is one of the proxy's own
	// listeners (the proxy port or the admin port on an address of this
	// machine), always refused.
	ErrOwnAddress = errors.New("acl: destination is the proxy's own listener")
	// ErrUnsafePort means an absolute-URI request to a port outside
	// acl.safe_ports.
	ErrUnsafePort = errors.New("acl: destination port not in acl.safe_ports")
)
