// Package acl decides who may use the proxy and where they may go.
//
// Client addresses are checked against a PrefixSet: a path-compressed binary
// trie (one for IPv4, one for IPv6) whose lookup walks at most one node per
// branching bit of the address, so its cost depends on the address width and
// the shape of the set, not on how many prefixes were loaded. A prefix that is
// already covered by a shorter one is not stored, and a lookup stops at the
// first covering prefix. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are folded
// to IPv4 on insert and on lookup.
//
// Destinations are checked against Rules compiled from the `rules:` list of the
// configuration: the first rule whose every non-empty criterion matches
// decides. Domains live in a hash set probed once per label suffix of the
// host, ports in a set, methods and users in short slices, destination
// literals in a PrefixSet; URL regular expressions are RE2 (linear in the URL
// length) and are the only criterion whose cost grows with its own size.
// Compiled Rules and loaded PrefixSets are read-only, so any number of event
// loops may check them at once; a reload builds new ones and swaps them.
//
// Beneath the rules sits a fixed destination policy, Destinations: no
// loopback or unspecified address unless allowed, never the proxy's own
// listeners. It is enforced where the proxy connects, by a Dialer: the host
// is resolved once (HostAddr reads every spelling of an address first, so
// 2130706433 or 0x7f.1 is not looked up as a name), each candidate address
// is checked, and only a checked address is dialled, so neither a name that
// points at 127.0.0.1 nor DNS rebinding gets around the check. Rules with a
// dst criterion are decided on those same resolved addresses (Decide says
// when a request needs them). On the event loop, where nothing may resolve,
// Destinations.CheckHost refuses what the host itself already names.
package acl
