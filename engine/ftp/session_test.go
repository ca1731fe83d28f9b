package ftp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// fakeServer is a scripted FTP server on 127.0.0.1: it answers the commands
// a session sends, with PASV naming pasvHost, and serves file on RETR.
type fakeServer struct {
	ln       net.Listener
	data     net.Listener
	pasvHost string
	greeting string
	file     string
	listing  string
	stall    bool // RETR sends file, then holds the data connection open
}

func startFake(t *testing.T, f *fakeServer) string {
	t.Helper()
	var err error
	if f.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if f.data, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.ln.Close(); f.data.Close() })
	go func() {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		f.serve(c)
	}()
	return f.ln.Addr().String()
}

func (f *fakeServer) serve(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	greeting := f.greeting
	if greeting == "" {
		greeting = "fake ready"
	}
	fmt.Fprintf(c, "220 %s\r\n", greeting)
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		cmd, arg, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		switch strings.ToUpper(cmd) {
		case "USER":
			io.WriteString(c, "331 password please\r\n")
		case "PASS":
			io.WriteString(c, "230 in\r\n")
		case "FEAT":
			io.WriteString(c, "211-Features:\r\n SIZE\r\n211 End\r\n")
		case "TYPE", "OPTS":
			io.WriteString(c, "200 ok\r\n")
		case "EPSV":
			io.WriteString(c, "500 no EPSV here\r\n")
		case "PASV":
			p := f.data.Addr().(*net.TCPAddr).Port
			fmt.Fprintf(c, "227 Entering Passive Mode (%s,%d,%d)\r\n", strings.ReplaceAll(f.pasvHost, ".", ","), p/256, p%256)
		case "SIZE":
			fmt.Fprintf(c, "213 %d\r\n", len(f.file))
		case "RETR":
			io.WriteString(c, "150 here it comes\r\n")
			d, err := f.data.Accept()
			if err != nil {
				return
			}
			io.WriteString(d, f.file)
			if f.stall {
				time.Sleep(5 * time.Second)
			}
			d.Close()
			io.WriteString(c, "226 done\r\n")
		case "LIST":
			io.WriteString(c, "150 listing\r\n")
			d, err := f.data.Accept()
			if err != nil {
				return
			}
			io.WriteString(d, f.listing)
			d.Close()
			io.WriteString(c, "226 done\r\n")
		case "QUIT":
			io.WriteString(c, "221 bye\r\n")
			return
		default:
			_ = arg
			io.WriteString(c, "502 not implemented\r\n")
		}
	}
}

func testOptions() *Options {
	var d net.Dialer
	return &Options{Dial: d.DialContext, ConnectTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second, AnonymousPassword: "t@"}
}

func openFake(t *testing.T, addr string) (*Session, error) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	tg, err := ParseTarget([]byte(host), []byte(port), []byte("/f"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return Open(tg, "", "", testOptions())
}

// Issue 16: the data connection goes to the control connection's peer,
// whatever host PASV names (RFC 2577 §3). The fake's data port listens on
// 127.0.0.1 only, and PASV names 127.0.0.2: the file arrives only if the
// session ignored that host.
func TestDataConnectionToControlPeer(t *testing.T) {
	addr := startFake(t, &fakeServer{pasvHost: "127.0.0.2", file: "hello"})
	s, err := openFake(t, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.Retr("f")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil || string(b) != "hello" {
		t.Fatalf("got %q %v, want %q", b, err, "hello")
	}
}

// Issue 16: a reply line longer than MaxLine is an error, not a buffer that
// grows without bound.
func TestReplyLineTooLong(t *testing.T) {
	addr := startFake(t, &fakeServer{pasvHost: "127.0.0.1", greeting: strings.Repeat("x", MaxLine+10)})
	_, err := openFake(t, addr)
	if !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("got %v, want %v", err, ErrLineTooLong)
	}
}

// The dial function is the one the options name, for the control and the
// data connection alike.
func TestDialGoesThroughOptions(t *testing.T) {
	addr := startFake(t, &fakeServer{pasvHost: "127.0.0.1", file: "x"})
	var dialed []string
	o := testOptions()
	inner := o.Dial
	o.Dial = func(ctx context.Context, network, a string) (net.Conn, error) {
		dialed = append(dialed, a)
		return inner(ctx, network, a)
	}
	host, port, _ := net.SplitHostPort(addr)
	tg, _ := ParseTarget([]byte(host), []byte(port), []byte("/f"), nil)
	s, err := Open(tg, "", "", o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.Retr("f")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(r)
	if len(dialed) != 2 || dialed[0] != addr {
		t.Fatalf("got dials %q, want the control address %q then one data address", dialed, addr)
	}
}

// Issue 16: a listing line longer than MaxLine, or a listing larger than
// MaxListing, is an error too.
func TestListingLineTooLong(t *testing.T) {
	ok := "-rw-r--r-- 1 ftp ftp 5 Jan 01 2020 fine.txt\r\n"
	for _, tt := range []struct {
		listing string
		err     error
		n       int
	}{
		{ok, nil, 1},
		{ok + "-rw-r--r-- 1 ftp ftp 5 Jan 01 2020 " + strings.Repeat("x", MaxLine) + "\r\n", ErrLineTooLong, 0},
		{strings.Repeat(ok, MaxListing/len(ok)+1), ErrListingTooLarge, 0},
	} {
		addr := startFake(t, &fakeServer{pasvHost: "127.0.0.1", listing: tt.listing})
		s, err := openFake(t, addr)
		if err != nil {
			t.Fatal(err)
		}
		es, err := s.List("")
		s.Close()
		if !errors.Is(err, tt.err) || len(es) != tt.n {
			t.Errorf("got %d entries, %v; want %d, %v", len(es), err, tt.n, tt.err)
		}
	}
}

// Issue 16: a server that stops answering ends the session with a timeout
// error after the idle timeout, on the control connection and on the data
// connection alike.
func TestIdleTimeouts(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		c, err := silent.Accept()
		if err == nil {
			defer c.Close()
			time.Sleep(5 * time.Second) // never greets
		}
	}()
	o := testOptions()
	o.IdleTimeout = 100 * time.Millisecond
	host, port, _ := net.SplitHostPort(silent.Addr().String())
	tg, _ := ParseTarget([]byte(host), []byte(port), []byte("/f"), nil)
	var ne net.Error
	if _, err := Open(tg, "", "", o); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("silent control connection: got %v, want a timeout", err)
	}

	// A data connection that sends a little, then stalls.
	addr := startFake(t, &fakeServer{pasvHost: "127.0.0.1", file: "partial", stall: true})
	host, port, _ = net.SplitHostPort(addr)
	tg, _ = ParseTarget([]byte(host), []byte(port), []byte("/f"), nil)
	s, err := Open(tg, "", "", o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.Retr("f")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("stalled data connection: got %v, want a timeout", err)
	}
}
