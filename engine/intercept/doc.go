// Package intercept holds what transparent interception needs beyond a
// forward proxy: the destination a client really addressed, and the name a
// TLS client asks for.
//
// A NAT redirect (nftables "redirect", iptables REDIRECT or DNAT) rewrites
// the destination of a client's connection to the proxy's own port; the
// kernel keeps the original, and OriginalDst reads it back from the
// accepted socket (SO_ORIGINAL_DST). A TPROXY rule instead delivers the
// connection untouched to a listener marked IP_TRANSPARENT, so the accepted
// socket's local address is the original destination; connections to the
// origin can then leave from the client's own address (DialTransparent).
//
// Intercepted HTTPS is not decrypted. ServerName parses the TLS
// ClientHello a client sends first (RFC 8446 §4.1.2, RFC 6066 §3) for its
// server_name, so that rules, logging and accounting can name the site
// before the connection is spliced to the origin.
package intercept
