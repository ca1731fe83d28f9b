package tuning

import (
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMeasureAcceptQueue shows on loopback what an accept queue shorter
// than a connection burst does: a listener with the given backlog stays
// unaccepted for 200 ms while 256 clients connect, send one byte and wait
// for one byte back. It logs the clients' latency and the rise of
// TcpExtListenOverflows; README.md quotes its numbers. It passes listen(2) a
// backlog below somaxconn, which the kernel treats exactly as it treats a
// larger backlog truncated to somaxconn, so it changes no kernel setting. It
// runs only with EDGEPROXY_MEASURE=1, since it takes a few seconds and the
// overflow counter is shared by the whole network namespace.
func TestMeasureAcceptQueue(t *testing.T) {
	if os.Getenv("EDGEPROXY_MEASURE") != "1" {
		t.Skip("set EDGEPROXY_MEASURE=1 to measure")
	}
	for _, backlog := range []int{8, 128, 4096} {
		t.Run(strconv.Itoa(backlog), func(t *testing.T) {
			lat, over := burst(t, backlog, 256, 200*time.Millisecond)
			slow := 0
			for _, d := range lat {
				if d >= time.Second {
					slow++
				}
			}
			t.Logf("backlog %4d: p50 %v, max %v, %d of %d clients waited >= 1s, ListenOverflows +%d",
				backlog, lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond),
				slow, len(lat), over)
		})
	}
}

// burst runs one measurement and returns the sorted client latencies (a
// client that got no answer within 10 s counts as 10 s) and the overflow
// count.
func burst(t *testing.T, backlog, clients int, acceptDelay time.Duration) ([]time.Duration, int64) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, backlog); err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "listener")
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()

	before := listenOverflows(t)
	lat := make([]time.Duration, clients)
	var wg sync.WaitGroup
	for i := range lat {
		wg.Go(func() {
			start := time.Now()
			lat[i] = 10 * time.Second
			c, err := net.DialTimeout("tcp", addr, 10*time.Second)
			if err != nil {
				return
			}
			defer c.Close()
			c.SetDeadline(start.Add(10 * time.Second))
			if _, err := c.Write([]byte("q")); err != nil {
				return
			}
			if _, err := c.Read(make([]byte, 1)); err == nil {
				lat[i] = time.Since(start)
			}
		})
	}
	time.Sleep(acceptDelay)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := c.Read(make([]byte, 1)); err == nil {
					c.Write([]byte("a"))
				}
			}()
		}
	}()
	wg.Wait()
	slices.Sort(lat)
	return lat, listenOverflows(t) - before
}

// listenOverflows reads TcpExt ListenOverflows from /proc/net/netstat, the
// counter `nstat TcpExtListenOverflows` shows.
func listenOverflows(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/net/netstat")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i := 0; i+1 < len(lines); i += 2 {
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		for j := range names {
			if names[j] == "ListenOverflows" && j < len(values) {
				n, err := strconv.ParseInt(values[j], 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
		}
	}
	t.Fatal("no ListenOverflows in /proc/net/netstat")
	return 0
}
