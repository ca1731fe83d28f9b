package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Time limits of a proxy's life.
const (
	readyTimeout = 15 * time.Second // start-up until the listener accepts
	stopTimeout  = 15 * time.Second // SIGTERM until exit; then SIGKILL
)

// proxy is one edgeproxy process this command started.
type proxy struct {
	addr, admin string // listen and admin addresses, 127.0.0.1:port
	logPath     string // its standard output and error
	cmd         *exec.Cmd
	done        chan struct{} // closed once the process has been reaped
	err         error         // its exit status; valid after done
}

// startProxy writes v's configuration into dir and starts bin with it on
// free loopback ports, with its access log in dir if accessLog is set. It
// returns once the proxy accepts connections.
func startProxy(bin, dir string, v variant, c cacheSizes, accessLog bool) (*proxy, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	aport, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &proxy{
		addr:    "127.0.0.1:" + strconv.Itoa(port),
		admin:   "127.0.0.1:" + strconv.Itoa(aport),
		logPath: filepath.Join(dir, v.Name+".stderr.log"),
		done:    make(chan struct{}),
	}
	alog := ""
	if accessLog {
		alog = filepath.Join(dir, v.Name+".access.log")
	}
	conf := filepath.Join(dir, v.Name+".yaml")
	if err := os.WriteFile(conf, []byte(proxyConfig(v, c, p.addr, p.admin, alog)), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(p.logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child holds its own descriptor
	p.cmd = exec.Command(bin, "--config", conf)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	if err := p.waitReady(); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// freePort asks the kernel for an unused loopback port. Another process
// could take it before the proxy binds it; the proxy then fails to start
// and says so.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls the listener until it accepts a connection, the process
// exits, or readyTimeout passes.
func (p *proxy) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("%w: exited (%v); see %s: %s", errNotReady, p.err, p.logPath, logTail(p.logPath))
		default:
		}
		c, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%w: %s not accepting after %s; see %s", errNotReady, p.addr, readyTimeout, p.logPath)
}

// stop sends SIGTERM to the proxy's pid, and SIGKILL if it has not exited
// after stopTimeout. It returns once the process has been reaped.
func (p *proxy) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(stopTimeout):
	}
	p.cmd.Process.Kill()
	<-p.done
}

// logTail returns the last line of the file at path, for an error message.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// counterFamilies are the metric families the report shows.
var counterFamilies = []string{
	"edgeproxy_cache_admission_total",
	"edgeproxy_cache_evictions_total",
	"edgeproxy_prefetch_started_total",
	"edgeproxy_prefetch_skipped_total",
	"edgeproxy_prefetch_hits_total",
	"edgeproxy_prefetch_bytes_total",
	"edgeproxy_prefetch_stored_total",
	"edgeproxy_prefetch_skipped_fresh_total",
	"edgeproxy_prefetch_skipped_unstorable_total",
	"edgeproxy_prefetch_feed_dropped_total",
}

// counters maps a sample name with its labels, as the exposition format
// prints it (`edgeproxy_cache_admission_total{decision="admitted"}`), to
// its value, and a labelled family's bare name to its total.
type counters map[string]float64

// scrapeCounters reads the samples of counterFamilies from the proxy's
// admin /metrics.
func (p *proxy) scrapeCounters(ctx context.Context) (counters, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.admin+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics: %s", resp.Status)
	}
	out := counters{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := parseSample(sc.Text())
		if !ok {
			continue
		}
		out[name] = value
		if family, _, labelled := strings.Cut(name, "{"); labelled {
			out[family] += value // the family's total, across its labels
		}
	}
	return out, sc.Err()
}

// parseSample splits a line of the Prometheus text format into the sample
// name with labels and its value, if its family is one of counterFamilies.
func parseSample(line string) (string, float64, bool) {
	i := strings.LastIndexByte(line, ' ')
	if i < 0 || strings.HasPrefix(line, "#") {
		return "", 0, false
	}
	name := line[:i]
	family, _, _ := strings.Cut(name, "{")
	found := false
	for _, f := range counterFamilies {
		found = found || f == family
	}
	if !found {
		return "", 0, false
	}
	v, err := strconv.ParseFloat(line[i+1:], 64)
	return name, v, err == nil
}
