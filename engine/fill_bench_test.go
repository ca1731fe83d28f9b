package engine

import (
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkMiss is the whole cache-miss path over loopback sockets: one
// client connection asks for a new cacheable 1 KiB URL each time, which the
// proxy fetches from a scripted keep-alive origin, stores and relays. Beside
// ns/op it reports cpu-ns/op, the CPU time of the whole test process (proxy,
// origin and client) per miss, from getrusage: client and origin cost the
// same before and after a change to the proxy, so the figure compares.
// BenchmarkMissOriginDirect is the same client against the origin alone.
func BenchmarkMiss(b *testing.B) {
	o := startScriptOrigin(b, cacheableEcho(1024))
	s := startProxy(b, nil)
	hc := newHitClient(b, s, "", 1024)
	base := "GET http://" + o.addr + "/obj?"
	b.ReportAllocs()
	runMisses(b, hc, base)
}

// BenchmarkPass is pass-1k-c64's path with one connection: a no-store
// 1 KiB URL, asked again and again, so that after the first response every
// request is a pass (pass.go) relayed on the loop.
func BenchmarkPass(b *testing.B) {
	o := startScriptOrigin(b, echoWith(1024, "no-store"))
	s := startProxy(b, nil)
	hc := newHitClient(b, s, "", 1024)
	hc.req = append(hc.req[:0], "GET http://"+o.addr+"/obj/pass HTTP/1.1\r\nHost: h\r\n\r\n"...)
	b.ReportAllocs()
	start := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		hc.do(b)
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

func BenchmarkMissOriginDirect(b *testing.B) {
	o := startScriptOrigin(b, cacheableEcho(1024))
	c, err := net.Dial("tcp", o.addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	hc := &hitClient{c: c, buf: make([]byte, 64<<10), body: 1024}
	b.ReportAllocs()
	runMisses(b, hc, "GET /obj?")
}

func runMisses(b *testing.B, hc *hitClient, base string) {
	start := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		hc.req = strconv.AppendInt(append(hc.req[:0], base...), int64(i), 10)
		hc.req = append(hc.req, " HTTP/1.1\r\nHost: h\r\n\r\n"...)
		hc.do(b)
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// cacheableEcho answers every request with a cacheable body of n bytes.
func cacheableEcho(n int) func(c *scriptConn) { return echoWith(n, "max-age=3600") }

// echoWith answers every request with a body of n bytes and the given
// Cache-Control.
func echoWith(n int, cc string) func(c *scriptConn) {
	resp := "HTTP/1.1 200 OK\r\nCache-Control: " + cc + "\r\nContent-Length: " + strconv.Itoa(n) + "\r\n\r\n" + strings.Repeat("x", n)
	return func(c *scriptConn) {
		_ = c.nc.SetDeadline(time.Time{})
		for {
			if p, _ := c.read(); p == "" {
				return
			}
			c.write(resp)
		}
	}
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
