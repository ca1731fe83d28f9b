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
package acl
