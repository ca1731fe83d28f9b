// Command authflood measures what a flood of wrong passwords does to other
// users of an edgeproxy binary, and whether a 407 tells by its timing that a
// user name exists. Everything runs on loopback and is bounded in time.
//
// It writes an htpasswd file with one bcrypt user (-cost), starts an origin
// and the given binary (with only listen, admin off, log off and
// auth.basic_file set, so any version of edgeproxy accepts the config), and
// then:
//
//  1. times -samples 407 answers for an unknown user and as many for the
//     known user with a wrong password, each on a new connection from its
//     own loopback address (127.0.1.x), so no failure limit is involved;
//  2. warms one object into the cache with the right password, from
//     127.0.0.1;
//  3. floods from 127.0.0.2: -flood-conns keep-alive connections send wrong
//     passwords for -duration, while one connection from 127.0.0.1 requests
//     the cached object again and again (at most -max-hits times) and times
//     each answer.
//
// It prints the median and p99 of each timing and the statuses the flood
// got. The proxy is killed by its pid at the end.
package main

import (
	"bufio"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func main() {
	bin := flag.String("edgeproxy", "bin/edgeproxy", "edgeproxy binary to measure")
	cost := flag.Int("cost", bcrypt.DefaultCost, "bcrypt cost of the user's hash")
	samples := flag.Int("samples", 20, "407 answers timed per case (at most 200)")
	floodConns := flag.Int("flood-conns", 8, "connections sending wrong passwords (at most 256)")
	duration := flag.Duration("duration", 5*time.Second, "how long the flood runs (at most 60s)")
	maxHits := flag.Int("max-hits", 20000, "most cache hits the legitimate user sends")
	allowLocal := flag.Bool("allow-local", true, "set acl.allow_local_destinations (false for binaries that predate it)")
	flag.Parse()
	*samples = min(max(*samples, 1), 200)
	*floodConns = min(max(*floodConns, 1), 256)
	*duration = min(max(*duration, time.Second), time.Minute)

	dir, err := os.MkdirTemp("", "authflood")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	hash, err := bcrypt.GenerateFromPassword([]byte("right"), *cost)
	if err != nil {
		log.Fatal(err)
	}
	htpasswd := filepath.Join(dir, "htpasswd")
	must(os.WriteFile(htpasswd, []byte("alice:"+string(hash)+"\n"), 0o600))

	oln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	go http.Serve(oln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		io.WriteString(w, "hello from the origin\n")
	}))
	origin := oln.Addr().String()

	addr := freeAddr()
	cfg := filepath.Join(dir, "edgeproxy.yaml")
	yaml := fmt.Appendf(nil, "listen: %q\nadmin: \"off\"\nlog:\n  path: \"off\"\nauth:\n  basic_file: %s\n", addr, htpasswd)
	if *allowLocal {
		// The origin is on loopback; binaries before issue 11 know no such key.
		yaml = append(yaml, "acl:\n  allow_local_destinations: true\n"...)
	}
	must(os.WriteFile(cfg, yaml, 0o600))
	cmd := exec.Command(*bin, "--config", cfg)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	must(cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if i == 100 {
			log.Fatal("proxy did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}

	url := "http://" + origin + "/object"
	request := func(user, password string) string {
		cred := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
		return "GET " + url + " HTTP/1.1\r\nHost: " + origin + "\r\nProxy-Authorization: Basic " + cred + "\r\n\r\n"
	}

	// 1. 407 for an unknown user vs a known one.
	time407 := func(user string, base int) []time.Duration {
		var d []time.Duration
		for i := range *samples {
			c := dialFrom(fmt.Sprintf("127.0.1.%d", base+i), addr)
			t0 := time.Now()
			status := exchange(c, request(user, "wrong"))
			d = append(d, time.Since(t0))
			c.Close()
			if status != 407 {
				log.Printf("%s: got %d, want 407", user, status)
			}
		}
		return d
	}
	unknown := time407("mallory", 1)
	known := time407("alice", 1+*samples)
	report("407 unknown user", unknown)
	report("407 known user, wrong password", known)

	// 2. Warm the object with the right password.
	legit := dialFrom("127.0.0.1", addr)
	defer legit.Close()
	if s := exchange(legit, request("alice", "right")); s != 200 {
		log.Fatalf("warming request: got %d, want 200", s)
	}
	var quiet []time.Duration
	for range 200 {
		t0 := time.Now()
		exchange(legit, request("alice", "right"))
		quiet = append(quiet, time.Since(t0))
	}
	report("hit, no flood", quiet)

	// 3. The flood, and the legitimate user's hits meanwhile.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var statuses sync.Map
	var sent atomic.Int64
	for i := range *floodConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dialFrom("127.0.0.2", addr)
			defer func() { c.Close() }()
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				s := exchange(c, request("alice", fmt.Sprintf("guess-%d-%d", i, j)))
				sent.Add(1)
				v, _ := statuses.LoadOrStore(s, new(atomic.Int64))
				v.(*atomic.Int64).Add(1)
				if s <= 0 {
					c.Close()
					c = dialFrom("127.0.0.2", addr)
				}
			}
		}()
	}
	var hits []time.Duration
	var hitErrors int
	end := time.Now().Add(*duration)
	for time.Now().Before(end) && len(hits) < *maxHits {
		t0 := time.Now()
		s := exchange(legit, request("alice", "right"))
		hits = append(hits, time.Since(t0))
		if s != 200 {
			hitErrors++
		}
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	report("hit under the flood", hits)
	fmt.Printf("legitimate hits not 200: %d of %d\n", hitErrors, len(hits))
	fmt.Printf("flood: %d requests in %v:", sent.Load(), *duration)
	statuses.Range(func(k, v any) bool {
		fmt.Printf(" %d×%d", k, v.(*atomic.Int64).Load())
		return true
	})
	fmt.Println()
}

// conn is a client connection with its reader.
type conn struct {
	net.Conn
	br *bufio.Reader
}

func dialFrom(local, addr string) *conn {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	must(err)
	return &conn{Conn: c, br: bufio.NewReader(c)}
}

// exchange sends one request and reads its response; it returns the status,
// or -1 when the connection failed.
func exchange(c *conn, req string) int {
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		return -1
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return -1
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func report(name string, d []time.Duration) {
	if len(d) == 0 {
		fmt.Printf("%-32s no samples\n", name)
		return
	}
	slices.Sort(d)
	p := func(q float64) time.Duration { return d[min(len(d)-1, int(q*float64(len(d))))] }
	fmt.Printf("%-32s n=%-6d median %-10v p99 %v\n", name, len(d), p(0.5).Round(time.Microsecond), p(0.99).Round(time.Microsecond))
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	defer ln.Close()
	return ln.Addr().String()
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
