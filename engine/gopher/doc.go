// Package gopher fetches gopher:// URLs (RFC 1436, URLs per RFC 4266) for the
// proxy, small and strict: a selector goes out as one line, the answer is
// read until the server closes.
//
// Gopher URLs are the classic vector for smuggling commands to other TCP
// services (a selector is sent verbatim, so "%0D%0A" in a URL becomes a
// new command line to whatever listens on the port). A selector or search
// string holding CR, LF, TAB or NUL after percent-decoding is refused, and
// the item types that name telnet sessions or CSO phone books are not
// fetched at all. Menus (type 1) and search results (type 7) are rendered
// as HTML: every display string is escaped, links to gopher items become
// gopher:// URLs whose host and port must be well-formed, and an "h" item's
// "URL:" selector becomes a link only for http, https, ftp and gopher.
// Menu lines are bounded by MaxLine and whole menus by MaxMenu. Text items
// (type 0) stream through with the closing "." line removed; other types
// pass through with a content type chosen by type code.
package gopher
