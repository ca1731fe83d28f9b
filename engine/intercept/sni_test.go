package intercept

import (
	"crypto/tls"
	"errors"
	"io"
	"math/rand"
	"net"
	"testing"
	"time"
)

// clientHello captures the first flight of a real crypto/tls client.
func clientHello(t testing.TB, serverName string) []byte {
	t.Helper()
	c, s := net.Pipe()
	defer s.Close()
	go func() {
		tc := tls.Client(c, &tls.Config{ServerName: serverName, InsecureSkipVerify: serverName == ""})
		_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
		_ = tc.Handshake()
		c.Close()
	}()
	_ = s.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64<<10)
	n, err := io.ReadAtLeast(s, buf, recordHeaderLen)
	if err != nil {
		t.Fatal(err)
	}
	size := recordHeaderLen + (int(buf[3])<<8 | int(buf[4]))
	for n < size {
		m, err := s.Read(buf[n:])
		if err != nil {
			t.Fatal(err)
		}
		n += m
	}
	return buf[:size]
}

// refragment splits the handshake payload of one record into records of at
// most size bytes, as a client with a small record size would send it.
func refragment(rec []byte, size int) []byte {
	payload := rec[recordHeaderLen:]
	var out []byte
	for len(payload) > 0 {
		n := min(size, len(payload))
		out = append(out, rec[0], rec[1], rec[2], byte(n>>8), byte(n))
		out = append(out, payload[:n]...)
		payload = payload[n:]
	}
	return out
}

func TestServerName(t *testing.T) {
	hello := clientHello(t, "www.example.com")
	noSNI := clientHello(t, "")
	cases := []struct {
		name string
		in   []byte
		want string
		err  error
	}{
		{"whole", hello, "www.example.com", nil},
		{"one record per 100 bytes", refragment(hello, 100), "www.example.com", nil},
		{"one record per byte", refragment(hello, 1), "www.example.com", nil},
		{"followed by more data", append(append([]byte(nil), hello...), "junk"...), "www.example.com", nil},
		{"no server_name", noSNI, "", nil},
		{"plain HTTP", []byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), "", ErrNotTLS},
		{"SSLv2-style hello", []byte{0x80, 0x2e, 0x01, 0x03, 0x01, 0, 0}, "", ErrNotTLS},
		{"application data record", []byte{23, 3, 3, 0, 1, 0}, "", ErrNotTLS},
		{"zero-length record", []byte{22, 3, 1, 0, 0}, "", ErrMalformed},
		{"oversized record", []byte{22, 3, 1, 0x50, 0}, "", ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var scratch []byte
			got, err := ServerName(tc.in, &scratch)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err: got %v, want %v", err, tc.err)
			}
			if string(got) != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// Every prefix of a hello asks for more bytes, fed whole, byte by byte and
// in random splits, and the complete hello yields the name.
func TestServerNameIncremental(t *testing.T) {
	for _, in := range [][]byte{clientHello(t, "a.example.org"), refragment(clientHello(t, "a.example.org"), 50)} {
		var scratch []byte
		for i := 0; i < len(in); i++ {
			if _, err := ServerName(in[:i], &scratch); err != ErrNeedMore {
				t.Fatalf("prefix of %d/%d bytes: got %v, want ErrNeedMore", i, len(in), err)
			}
		}
		r := rand.New(rand.NewSource(1))
		for n := 0; n < len(in); n += 1 + r.Intn(300) {
			_, _ = ServerName(in[:n], &scratch)
		}
		if got, err := ServerName(in, &scratch); err != nil || string(got) != "a.example.org" {
			t.Fatalf("complete: got %q, %v", got, err)
		}
	}
}

func TestServerNameRefusesBadNames(t *testing.T) {
	hello := clientHello(t, "aaaa.example")
	for _, bad := range []string{"aa\r\n", "a a.", "a/b.", "a%0a"} {
		in := append([]byte(nil), hello...)
		i := indexOf(in, "aaaa.example")
		copy(in[i:], bad)
		if _, err := ServerName(in, new([]byte)); err != ErrBadServerName {
			t.Errorf("%q: got %v, want ErrBadServerName", bad, err)
		}
	}
}

func TestServerNameAllocatesNothingInOneRecord(t *testing.T) {
	hello := clientHello(t, "www.example.com")
	var scratch []byte
	if n := testing.AllocsPerRun(100, func() { _, _ = ServerName(hello, &scratch) }); n != 0 {
		t.Errorf("got %v allocations, want 0", n)
	}
}

func indexOf(b []byte, s string) int {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return i
		}
	}
	return -1
}

func FuzzServerName(f *testing.F) {
	f.Add(clientHello(f, "www.example.com"))
	f.Add(refragment(clientHello(f, "fuzz.example"), 7))
	f.Add(clientHello(f, ""))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var scratch []byte
		name, err := ServerName(b, &scratch)
		if err == nil && name != nil && !validHostName(name) {
			t.Fatalf("returned an invalid name %q", name)
		}
		if err == ErrNeedMore && len(b) >= MaxHello+recordHeaderLen*3 {
			t.Fatalf("asks for more after %d bytes", len(b))
		}
	})
}
