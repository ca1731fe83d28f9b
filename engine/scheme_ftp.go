package engine

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"path"
	"time"

	"edgeproxy/cache"
	"edgeproxy/codec"
	"edgeproxy/engine/ftp"
)

// ftpOptions are the session options from the configuration.
func (s *Server) ftpOptions() *ftp.Options {
	return &ftp.Options{
		Dial:              s.dialScheme,
		ConnectTimeout:    s.set.origin.connect,
		IdleTimeout:       s.set.origin.idle,
		AnonymousPassword: s.set.schemes.ftp.AnonymousPassword,
	}
}

// serveFTP answers an ftp:// request: a file (RETR, with SIZE and MDTM
// first), a directory listing, or an upload (STOR).
func (ex *exchange) serveFTP(w sink) {
	t := ex.alt.ftp
	// The URL's credentials win; Authorization answers a challenge for a
	// URL without a password, for its user if it names one.
	user, pass := t.User, t.Password
	if !t.HasPassword && ex.alt.user != "" && (user == "" || user == ex.alt.user) {
		user, pass = ex.alt.user, ex.alt.pass
	}
	ex.reqTime = time.Now()
	ex.s.stats.OriginConns().Add(1)
	defer ex.s.stats.OriginConns().Add(-1)
	sess, err := ftp.Open(t, user, pass, ex.s.ftpOptions())
	ex.s.stats.ObserveOrigin(time.Since(ex.reqTime))
	if err != nil {
		ex.ftpFail(w, err)
		return
	}
	defer sess.Close()
	ex.peer = peerAddr(sess.Peer())
	switch {
	case ex.method == "PUT":
		ex.ftpStore(w, sess)
	case t.Dir:
		ex.ftpList(w, sess, t.Path)
	default:
		ex.ftpRetr(w, sess)
	}
}

// ftpRetr sends a file. SIZE gives Content-Length (not for ;type=a, whose
// line ends the server converts), MDTM Last-Modified, the name
// Content-Type. A path that SIZE or RETR refuses but CWD enters is a
// directory, and is listed.
func (ex *exchange) ftpRetr(w sink, sess *ftp.Session) {
	t := ex.alt.ftp
	size, mod, err := sess.Stat(t.Path)
	var re *ftp.ReplyError
	if err != nil {
		if !errors.As(err, &re) {
			ex.ftpFail(w, err)
			return
		}
		if sess.IsDir(t.Path) {
			ex.ftpList(w, sess, "") // the directory entered
			return
		}
		if re.Code != 500 && re.Code != 502 && re.Code != 504 { // not "SIZE unknown"
			ex.ftpFail(w, err)
			return
		}
		size = -1
	}
	ctype := mime.TypeByExtension(path.Ext(t.Path))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	if t.Type == 'a' {
		if err := sess.SetASCII(); err != nil {
			ex.ftpFail(w, err)
			return
		}
		ctype, size = "text/plain", -1
	}
	kv := []string{"Content-Type", ctype}
	if !mod.IsZero() {
		kv = append(kv, "Last-Modified", string(codec.AppendHTTPDate(nil, mod)))
	}
	hs := fields(kv...)
	var src io.Reader
	if !ex.head {
		if src, err = sess.Retr(t.Path); err != nil {
			if errors.As(err, &re) && sess.IsDir(t.Path) {
				ex.ftpList(w, sess, "")
				return
			}
			ex.ftpFail(w, err)
			return
		}
	}
	ex.startFill(&cache.Meta{Status: 200, Header: hs, RequestTime: ex.reqTime, ResponseTime: time.Now(), ContentLength: size})
	ex.sendBody(w, 200, hs, src, size)
}

// ftpList sends the listing of dir as HTML. Listings are not stored: they
// carry no date to judge their freshness by.
func (ex *exchange) ftpList(w sink, sess *ftp.Session, dir string) {
	entries, err := sess.List(dir)
	if err != nil {
		ex.ftpFail(w, err)
		return
	}
	body := ftp.AppendListing(nil, ex.alt.ftp.AsDir(), entries)
	ex.sendPage(w, 200, fields("Content-Type", "text/html; charset=utf-8"), body)
}

// ftpStore uploads the request body (STOR) and invalidates what the cache
// holds for the URL.
func (ex *exchange) ftpStore(w sink, sess *ftp.Session) {
	var body io.Reader = bytes.NewReader(ex.req.Body())
	if s := ex.req.BodyStream(); s != nil {
		body = s
	}
	err := sess.Stor(ex.alt.ftp.Path, body)
	if ex.body != nil && (!ex.body.done() || ex.body.buffered() > 0) {
		ex.close = true // as roundTrip: the rest of the body, or a pipelined request, cannot be read reliably
	}
	if err != nil {
		ex.ftpFail(w, err)
		return
	}
	if ex.key != nil && ex.s.cache != nil {
		ex.s.invalidate(ex.key)
	}
	ex.sendPage(w, 201, fields("Content-Type", "text/plain; charset=utf-8"), []byte("stored "+ex.alt.ftp.LogURL()+"\n"))
}

// ftpFail answers an FTP failure. A refused login (530) asks for
// credentials with a Basic challenge when the URL named no password, as
// Squid does; the client's next request carries them in Authorization. A
// refusal of the URL's own password is 403. Every other failure is answered
// by statusFor, with the server's reply text.
func (ex *exchange) ftpFail(w sink, err error) {
	var re *ftp.ReplyError
	if errors.As(err, &re) && re.Code == 530 && !ex.alt.ftp.HasPassword {
		closing := ex.close || ex.s.draining.Load()
		ex.status, ex.ctype = 401, ctypeText
		text := "FTP login refused: " + re.Text + "\n"
		hs := fields("Content-Type", ctypeText,
			"WWW-Authenticate", `Basic realm="`+ex.alt.ftp.Realm()+`"`)
		ex.startFill(nil)
		head := ex.appendSchemeHead(w.buffer(), 401, hs, int64(len(text)), frameLength, closing)
		w.finish(head, []byte(text), nil, closing)
		return
	}
	ex.s.log.Debug("ftp fetch failed", "url", ex.target, "err", err)
	ex.replyError(w, err)
}
