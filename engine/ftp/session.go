package ftp

import (
	"errors"
	"io"
	"net"
	"net/textproto"
	"time"

	goftp "github.com/jlaffaye/ftp"
)

// Options configure a session.
type Options struct {
	Dial              DialFunc
	ConnectTimeout    time.Duration // for each connection to be accepted
	IdleTimeout       time.Duration // for each wait on a reply or data
	AnonymousPassword string        // sent with the user "anonymous"
}

// Session is one logged-in FTP control connection. It is used by one
// goroutine at a time, except Close, which may be called from any.
type Session struct {
	c    *goftp.ServerConn
	d    *dialer
	peer net.Addr
}

// Open connects to t and logs in as user with password, or anonymously when
// user is empty.
func Open(t *Target, user, password string, o *Options) (*Session, error) {
	d := &dialer{dial: o.Dial, connect: o.ConnectTimeout, idle: o.IdleTimeout}
	c, err := goftp.Dial(t.Addr(), goftp.DialWithDialFunc(d.dialFunc))
	if err != nil {
		d.close()
		return nil, wrap(err)
	}
	s := &Session{c: c, d: d}
	if d.control != nil {
		s.peer = d.control.RemoteAddr()
	}
	if user == "" {
		user, password = "anonymous", o.AnonymousPassword
	}
	if err := c.Login(user, password); err != nil {
		s.Close()
		var te *textproto.Error
		if !errors.As(err, &te) && !isNet(err) {
			// The library reports an unexpected reply to USER by its text
			// alone: the login was refused.
			return nil, &ReplyError{Code: 530, Text: err.Error()}
		}
		return nil, wrap(err)
	}
	return s, nil
}

// Peer is the server's address, for the access log.
func (s *Session) Peer() net.Addr { return s.peer }

// Close ends the session at once: QUIT is sent without waiting for its
// reply, and every connection is closed.
func (s *Session) Close() {
	_ = s.c.Quit()
	s.d.close()
}

// Stat returns a file's size (SIZE) and modification time (MDTM, RFC 3659
// §3); a zero time when the server cannot tell. A SIZE failure is returned
// as the server's reply: 550 for a path that is no file.
func (s *Session) Stat(path string) (size int64, mod time.Time, err error) {
	size, err = s.c.FileSize(path)
	if err != nil {
		return 0, time.Time{}, wrap(err)
	}
	if s.c.IsGetTimeSupported() {
		if t, err := s.c.GetTime(path); err == nil {
			mod = t
		}
	}
	return size, mod, nil
}

// IsDir reports whether path is a directory the session can enter (CWD).
func (s *Session) IsDir(path string) bool {
	return s.c.ChangeDir(path) == nil
}

// SetASCII switches the transfer type to ASCII (TYPE A); sessions start in
// binary (TYPE I).
func (s *Session) SetASCII() error {
	return wrap(s.c.Type(goftp.TransferTypeASCII))
}

// Retr starts reading a file (RETR). The reader reports io.EOF only once
// the server has confirmed the transfer complete; a transfer cut short ends
// in an error, so a truncated file is never taken for a whole one.
func (s *Session) Retr(path string) (io.Reader, error) {
	r, err := s.c.Retr(path)
	if err != nil {
		return nil, wrap(err)
	}
	return &retr{r: r}, nil
}

type retr struct {
	r   *goftp.Response
	err error
}

func (r *retr) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.r.Read(p)
	if err == io.EOF {
		if cerr := r.r.Close(); cerr != nil {
			r.err = errors.Join(ErrTruncated, wrap(cerr))
			return n, r.err
		}
		r.err = io.EOF
	} else if err != nil {
		r.err = wrap(err)
	}
	return n, r.err
}

// Entry is one name in a directory listing.
type Entry struct {
	Name string
	Dir  bool
	Link bool
	Size uint64
	Time time.Time
}

// List lists a directory: MLSD when the server offers it, else LIST. The
// names "." and ".." are left out.
func (s *Session) List(path string) ([]Entry, error) {
	s.d.setListing(true)
	defer s.d.setListing(false)
	es, err := s.c.List(path)
	if err != nil {
		return nil, wrap(err)
	}
	out := make([]Entry, 0, len(es))
	for _, e := range es {
		if e.Name == "." || e.Name == ".." || e.Name == "" {
			continue
		}
		out = append(out, Entry{Name: e.Name, Dir: e.Type == goftp.EntryTypeFolder, Link: e.Type == goftp.EntryTypeLink,
			Size: e.Size, Time: e.Time})
	}
	return out, nil
}

// Stor stores body as path (STOR).
func (s *Session) Stor(path string, body io.Reader) error {
	return wrap(s.c.Stor(path, body))
}

// wrap turns the library's reply errors into *ReplyError and keeps the
// others; a line-length refusal wrapped anywhere comes back as
// ErrLineTooLong.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	for _, e := range []error{ErrLineTooLong, ErrListingTooLarge} {
		if errors.Is(err, e) {
			return e
		}
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return &ReplyError{Code: te.Code, Text: te.Msg}
	}
	return err
}

// isNet reports an error from the network rather than from a reply.
func isNet(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, ErrLineTooLong) ||
		errors.Is(err, ErrListingTooLarge)
}
