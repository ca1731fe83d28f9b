package engine

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"edgeproxy/engine/config"
)

// Issue 12: the cache-free paths a loop cannot carry (https:// origins,
// streamed uploads) run on workers through the origin package's blocking
// Client, with the loop's strictness. These tests drive them against
// origins that misbehave on purpose: a crypto/tls origin on 127.0.0.1
// signed by a test CA, and a plain one receiving chunked uploads.

// testTLS is the test CA's server configuration for 127.0.0.1. The CA goes
// to a file named by SSL_CERT_FILE before any test runs, so the proxy
// trusts it the way it trusts any origin: through the system's roots.
var testTLS = newTestTLS()

func newTestTLS() *tls.Config {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "edgeproxy test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		panic(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "edgeproxy-test-ca")
	if err != nil {
		panic(err)
	}
	file := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		panic(err)
	}
	os.Setenv("SSL_CERT_FILE", file) //nolint:errcheck
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// startTLSScriptOrigin is startScriptOrigin over TLS.
func startTLSScriptOrigin(t testing.TB, script func(c *scriptConn)) *scriptOrigin {
	t.Helper()
	return startWrappedScriptOrigin(t, func(nc net.Conn) net.Conn { return tls.Server(nc, testTLS) }, script)
}

// readAny reads one request, its body framed by Content-Length or chunked;
// it returns its path ("" at the end), body, and whether it asked for
// 100-continue, which is answered before the body is read.
func (c *scriptConn) readAny() (path, body string) {
	cl, chunked := 0, false
	for i := 0; ; i++ {
		s, err := c.br.ReadString('\n')
		if err != nil {
			return "", ""
		}
		s = strings.TrimRight(s, "\r\n")
		if i == 0 {
			c.o.mu.Lock()
			c.o.lines = append(c.o.lines, s)
			c.o.mu.Unlock()
			if f := strings.Fields(s); len(f) == 3 {
				path = f[1]
			}
			continue
		}
		if s == "" {
			break
		}
		k, v, _ := strings.Cut(s, ":")
		v = strings.TrimSpace(v)
		switch {
		case strings.EqualFold(k, "content-length"):
			cl, _ = strconv.Atoi(v)
		case strings.EqualFold(k, "transfer-encoding"):
			chunked = strings.EqualFold(v, "chunked")
		case strings.EqualFold(k, "expect"):
			c.write("HTTP/1.1 100 Continue\r\n\r\n")
		}
	}
	if !chunked {
		b := make([]byte, cl)
		if _, err := io.ReadFull(c.br, b); err != nil {
			return "", ""
		}
		return path, string(b)
	}
	var b strings.Builder
	for {
		line, err := c.br.ReadString('\n')
		if err != nil {
			return "", ""
		}
		n, err := strconv.ParseInt(strings.TrimSpace(line), 16, 64)
		if err != nil {
			return "", ""
		}
		if n == 0 {
			_, _ = c.br.ReadString('\n')
			return path, b.String()
		}
		data := make([]byte, n+2)
		if _, err := io.ReadFull(c.br, data); err != nil {
			return "", ""
		}
		b.Write(data[:n])
	}
}

// echoAny answers each request with its path.
func echoAny(c *scriptConn) {
	for {
		p, _ := c.readAny()
		if p == "" {
			return
		}
		c.write(okResponse(p))
	}
}

// directVia is one of the worker paths: how its origin runs and how a
// request reaches it through the proxy.
type directVia struct {
	name   string
	scheme string
	start  func(testing.TB, func(*scriptConn)) *scriptOrigin
	body   bool // each request carries a chunked body, streamed
}

var directVias = []directVia{
	{name: "tls", scheme: "https", start: startTLSScriptOrigin},
	{name: "upload", scheme: "http", start: startScriptOrigin, body: true},
}

// request is the raw request for method and url on this path.
func (v directVia) request(method, url string) string {
	if !v.body {
		return method + " " + url + " HTTP/1.1\r\nHost: x\r\n\r\n"
	}
	return method + " " + url + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n"
}

func (v directVia) do(t *testing.T, s *Server, method, url string) *http.Response {
	t.Helper()
	rc := dialRaw(t, s)
	rc.send(v.request(method, url))
	resp := rc.response(method)
	for resp.StatusCode/100 == 1 {
		resp = rc.response(method)
	}
	return resp
}

// Issue 12: a body after HEAD, 204 or 304, or bytes past Content-Length, in
// the same write, a later segment or past 4 KiB, never answer another URL,
// over TLS and after a streamed upload.
func TestDirectBytesPastResponse(t *testing.T) {
	for _, via := range directVias {
		s := startProxy(t, noCache)
		for _, tc := range []struct {
			name, method, resp string
			status             int
			body               string
		}{
			{"HEAD with body", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody", 200, ""},
			{"HEAD with body past 4 KiB", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + strings.Repeat("x", 4500), 200, ""},
			{"204 with body", "GET", "HTTP/1.1 204 No Content\r\nContent-Length: 4\r\n\r\nbody", 204, ""},
			{"304 with chunked body", "GET", "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n", 304, ""},
			{"excess past Content-Length", "GET", okResponse("ok"), 200, "ok"},
		} {
			method := tc.method
			if via.body && method == "GET" {
				method = "POST"
			}
			for _, later := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/later=%v", via.name, tc.name, later), func(t *testing.T) {
					inject, injected := make(chan struct{}), make(chan struct{})
					o := via.start(t, func(c *scriptConn) {
						if c.n > 0 {
							echoAny(c)
							return
						}
						if p, _ := c.readAny(); p == "" {
							return
						}
						if later {
							c.write(tc.resp)
							select {
							case <-inject:
							case <-time.After(10 * time.Second): // hang guard
							}
							c.write(injectedResponse)
						} else {
							c.write(tc.resp + injectedResponse)
						}
						close(injected)
						for {
							if p, _ := c.readAny(); p == "" {
								return
							}
							c.write(injectedResponse)
						}
					})
					s.originStats.Discards.Store(0)
					base := via.scheme + "://" + o.addr
					resp := via.do(t, s, method, base+"/first")
					if got := bodyOf(t, resp); resp.StatusCode != tc.status || got != tc.body {
						t.Fatalf("first: got %d %q, want %d %q", resp.StatusCode, got, tc.status, tc.body)
					}
					if later {
						// The bytes must arrive while the connection is idle.
						key := o.addr
						if via.scheme == "https" {
							key = "https://" + key
						}
						waitFor(t, "the connection to be idle or closed", func() bool {
							return s.direct.Idle(key) == 1 || s.originStats.Discards.Load() > 0
						})
					}
					close(inject)
					<-injected
					for _, p := range []string{"/other", "/third"} {
						resp := via.do(t, s, "POST", base+p)
						if got := bodyOf(t, resp); resp.StatusCode != 200 || got != p {
							t.Fatalf("%s: got %d %q, want 200 %q", p, resp.StatusCode, got, p)
						}
					}
					if got := s.originStats.Discards.Load(); got != 1 {
						t.Fatalf("connections closed for stray bytes: got %d, want 1", got)
					}
				})
			}
		}
	}
}

// Issue 12: GET is retried once on a fresh connection when its pooled TLS
// connection closes unanswered.
func TestDirectGetRetried(t *testing.T) {
	s := startProxy(t, noCache)
	o := startTLSScriptOrigin(t, func(c *scriptConn) {
		if c.n%2 == 1 {
			echoAny(c)
			return
		}
		if p, _ := c.readAny(); p == "" {
			return
		}
		c.write(okResponse("first"))
		c.readAny() // closed unanswered
	})
	tlsVia := directVias[0]
	base := "https://" + o.addr
	if got := bodyOf(t, tlsVia.do(t, s, "GET", base+"/a")); got != "first" {
		t.Fatalf("got %q, want %q", got, "first")
	}
	if resp := tlsVia.do(t, s, "GET", base+"/retried"); resp.StatusCode != 200 || bodyOf(t, resp) != "/retried" {
		t.Fatalf("GET: got %d, want 200", resp.StatusCode)
	}
	if got := s.originStats.Retries.Load(); got != 1 {
		t.Fatalf("retries: got %d, want 1", got)
	}
}

// Issue 12: a POST whose pooled connection closes unanswered is answered
// 502 and never sent again (RFC 9112 §9.3.1): over TLS, streamed, and with
// the cache on, where a POST takes a worker.
func TestDirectPostNeverRetried(t *testing.T) {
	cached := directVia{name: "cache-on", scheme: "http", start: startScriptOrigin}
	for _, via := range append(directVias[:len(directVias):len(directVias)], cached) {
		t.Run(via.name, func(t *testing.T) {
			mutate := noCache
			if via.name == "cache-on" {
				// With the cache on, a POST takes a worker (its response
				// invalidates the target's stored ones).
				mutate = func(c *config.Config) { c.EventLoops = 1 }
			}
			s := startProxy(t, mutate)
			o := via.start(t, func(c *scriptConn) {
				if p, _ := c.readAny(); p == "" {
					return
				}
				c.write(okResponse("first"))
				c.readAny()
			})
			base := via.scheme + "://" + o.addr
			via.do(t, s, "POST", base+"/a")
			rc := dialRaw(t, s)
			if via.body {
				rc.send(via.request("POST", base+"/form"))
			} else {
				rc.send("POST " + base + "/form HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\na=b")
			}
			if resp := rc.response("POST"); resp.StatusCode != 502 {
				t.Fatalf("POST: got %d, want 502", resp.StatusCode)
			}
			posts := 0
			for _, l := range o.seen() {
				if strings.HasPrefix(l, "POST /form") {
					posts++
				}
			}
			if posts != 1 {
				t.Fatalf("origin saw %d POSTs of /form, want 1", posts)
			}
		})
	}
}

// Issue 12: with an origin that closes connections idle for 1 s (and says
// Keep-Alive: timeout=1), bursts of requests separated by longer pauses
// never get a 502.
func TestDirectKeepAliveExpiry(t *testing.T) {
	for _, via := range directVias {
		t.Run(via.name, func(t *testing.T) {
			s := startProxy(t, noCache)
			o := via.start(t, func(c *scriptConn) {
				for {
					_ = c.nc.SetReadDeadline(time.Now().Add(time.Second))
					if p, _ := c.readAny(); p == "" {
						return
					}
					c.write("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 2\r\n\r\nok")
				}
			})
			for round := 0; round < 3; round++ {
				var wg sync.WaitGroup
				errs := make(chan string, 10)
				for i := 0; i < 10; i++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						rc := dialRaw(t, s)
						rc.send(via.request("POST", via.scheme+"://"+o.addr+"/small"))
						resp, err := http.ReadResponse(rc.br, nil)
						if err != nil {
							errs <- err.Error()
							return
						}
						b, _ := io.ReadAll(resp.Body)
						if resp.StatusCode != 200 || string(b) != "ok" {
							errs <- fmt.Sprintf("got %d %q", resp.StatusCode, b)
						}
					}()
				}
				wg.Wait()
				close(errs)
				for e := range errs {
					t.Errorf("round %d: %s, want 200 \"ok\"", round, e)
				}
				time.Sleep(1100 * time.Millisecond) // past the origin's idle close
			}
		})
	}
}

// Issue 12: 8 KiB and 60 KiB response heads pass; Content-Length with
// Transfer-Encoding, and a 101 to a request that did not ask to upgrade,
// get 502.
func TestDirectHeads(t *testing.T) {
	for _, via := range directVias {
		t.Run(via.name, func(t *testing.T) {
			s := startProxy(t, noCache)
			o := via.start(t, func(c *scriptConn) {
				for {
					p, _ := c.readAny()
					switch {
					case p == "":
						return
					case strings.HasPrefix(p, "/size/"):
						n, _ := strconv.Atoi(p[len("/size/"):])
						var b strings.Builder
						b.WriteString("HTTP/1.1 200 OK\r\n")
						for b.Len() < n {
							b.WriteString("X-Pad: " + strings.Repeat("p", 1000) + "\r\n")
						}
						c.write(b.String() + "Content-Length: 2\r\n\r\nok")
					case p == "/clte":
						c.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nevil\r\n0\r\n\r\n")
						return
					case p == "/switch":
						c.write("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n")
						return
					}
				}
			})
			base := via.scheme + "://" + o.addr
			for _, n := range []int{8 << 10, 60 << 10} {
				resp := via.do(t, s, "POST", fmt.Sprintf("%s/size/%d", base, n))
				if got := bodyOf(t, resp); resp.StatusCode != 200 || got != "ok" {
					t.Fatalf("%d-byte head: got %d %q, want 200 %q", n, resp.StatusCode, got, "ok")
				}
			}
			for _, p := range []string{"/clte", "/switch"} {
				if resp := via.do(t, s, "POST", base+p); resp.StatusCode != 502 {
					t.Fatalf("%s: got %d, want 502", p, resp.StatusCode)
				}
			}
		})
	}
}

// Issue 12: an https origin's 103 reaches an HTTP/1.1 client before the
// final response, and never an HTTP/1.0 one (RFC 9110 §15.2).
func TestDirectEarlyHints(t *testing.T) {
	s := startProxy(t, noCache)
	o := startTLSScriptOrigin(t, func(c *scriptConn) {
		for {
			if p, _ := c.readAny(); p == "" {
				return
			}
			c.write("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
			c.write(okResponse("page"))
		}
	})
	rc := dialRaw(t, s)
	rc.send("GET https://" + o.addr + "/ HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp := rc.response("GET"); resp.StatusCode != 103 || resp.Header.Get("Link") != "</style.css>; rel=preload" {
		t.Fatalf("got %d %v, want 103 with its Link", resp.StatusCode, resp.Header)
	}
	if resp := rc.response("GET"); resp.StatusCode != 200 || bodyOf(t, resp) != "page" {
		t.Fatalf("got %d, want 200 %q", resp.StatusCode, "page")
	}

	rc = dialRaw(t, s)
	rc.send("GET https://" + o.addr + "/old HTTP/1.0\r\n\r\n")
	all, _ := io.ReadAll(rc.br)
	if bytes.Contains(all, []byte(" 103 ")) || !bytes.HasPrefix(all, []byte("HTTP/1.1 200")) {
		t.Fatalf("HTTP/1.0 client got %q", all)
	}
}

// Issue 12: curl uploading a file larger than limits.max_body_buffer with
// Expect: 100-continue gets the origin's 100, then its 103, then the final
// response; the origin receives the whole file.
func TestDirectCurlUpload(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed (make test-deps)")
	}
	s := startProxy(t, func(c *config.Config) {
		noCache(c)
		c.Limits.MaxBodyBuffer = 64 * config.KiB
	})
	file := filepath.Join(t.TempDir(), "upload")
	data := bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320000 bytes
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	o := startScriptOrigin(t, func(c *scriptConn) {
		p, body := c.readAny()
		if p == "" {
			return
		}
		c.write("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n")
		if body != string(data) {
			c.write(okResponse("wrong body: " + strconv.Itoa(len(body)) + " bytes"))
			return
		}
		c.write(okResponse("got " + strconv.Itoa(len(body)) + " bytes"))
	})
	out, err := exec.Command("curl", "-sv", "--expect100-timeout", "30", "-H", "Expect: 100-continue",
		"-x", "http://"+s.Addr(), "-T", file, "http://"+o.addr+"/up").CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v\n%s", err, out)
	}
	i := bytes.Index(out, []byte("< HTTP/1.1 100"))
	j := bytes.Index(out, []byte("< HTTP/1.1 103"))
	k := bytes.Index(out, []byte("< HTTP/1.1 200"))
	if i < 0 || j < i || k < j || !bytes.HasSuffix(out, []byte("got 320000 bytes")) {
		t.Fatalf("curl did not see 100, 103, then 200 with the whole body received:\n%s", out)
	}
}

// An https origin whose certificate does not name the host asked for is
// refused: 502, and the request never reaches it.
func TestDirectUntrustedOrigin(t *testing.T) {
	s := startProxy(t, noCache)
	o := startTLSScriptOrigin(t, echoAny)
	_, port, _ := net.SplitHostPort(o.addr)
	resp := loopGet(t, s, "GET", "https://localhost:"+port+"/")
	if body := bodyOf(t, resp); resp.StatusCode != 502 || !strings.Contains(body, "TLS") {
		t.Fatalf("got %d %q, want 502 naming TLS", resp.StatusCode, body)
	}
	if got := len(o.seen()); got != 0 {
		t.Fatalf("origin saw %d requests, want 0", got)
	}
}
