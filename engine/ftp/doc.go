// Package ftp fetches ftp:// URLs (RFC 1738 §3.2) for the proxy: it parses
// the URL, logs in, and reads a file, lists a directory or stores a file
// over an FTP session (RFC 959) driven by github.com/jlaffaye/ftp.
//
// The library speaks the protocol; this package decides what it may reach.
// Every connection goes through one dialer per session: the first dial is
// the control connection, and every later one, a data connection, goes to
// the control connection's peer address whatever host a PASV reply named,
// so a server cannot point the proxy at a third host (the FTP bounce of
// RFC 2577 §3). Passive mode only, EPSV first (RFC 2428), then PASV. Each
// connection carries an idle timeout renewed on every read and write, and
// the control connection (and a listing's data connection) refuses a line
// longer than MaxLine bytes, since textproto would buffer it without bound;
// a listing, read whole before it is rendered, stops at MaxListing bytes.
//
// Paths are percent-decoded per segment; a decoded path, user or password
// holding CR, LF or NUL is refused, since it would end an FTP command early
// and smuggle another after it. Directory listings come from MLSD
// (RFC 3659) when the server's FEAT offers MLST, else from LIST, and are
// rendered as HTML whose names are escaped and link to their own URLs.
package ftp
