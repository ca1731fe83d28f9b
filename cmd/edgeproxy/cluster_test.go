package main

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"edgeproxy/engine/cluster"
)

// urlCountingOrigin counts the fetches of each path and keeps the Via of the
// last one. Every answer is cacheable for an hour.
type urlCountingOrigin struct {
	mu    sync.Mutex
	count map[string]int
	via   map[string]string
	delay map[string]time.Duration
}

func newURLCountingOrigin() *urlCountingOrigin {
	return &urlCountingOrigin{count: map[string]int{}, via: map[string]string{}, delay: map[string]time.Duration{}}
}

func (o *urlCountingOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.count[r.URL.Path]++
	o.via[r.URL.Path] = strings.Join(r.Header.Values("Via"), ", ")
	d := o.delay[r.URL.Path]
	o.mu.Unlock()
	time.Sleep(d)
	w.Header().Set("Cache-Control", "max-age=3600")
	_, _ = io.WriteString(w, "object "+r.URL.Path)
}

func (o *urlCountingOrigin) get(path string) (int, string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.count[path], o.via[path]
}

// clusterNode is one edgeproxy process of the cluster, restartable on the
// same addresses.
type clusterNode struct {
	name, addr, admin string
	proc              *proxyProc
}

// portOn returns a free port on the loopback address ip.
func portOn(t *testing.T, ip string) string {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startNamed runs the binary with yaml as its whole configuration (no
// name: the node's name is its cluster.self), waiting until it accepts.
func startNamed(t *testing.T, addr, admin, yaml string) *proxyProc {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "edgeproxy.yaml")
	full := fmt.Sprintf("listen: %q\nadmin: %q\nlog:\n  path: \"off\"\ncache:\n  memory: 8MiB\n  large_memory: 8MiB\n%s", addr, admin, allowLocal(yaml))
	if err := os.WriteFile(cfg, []byte(full), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &proxyProc{addr: addr, admin: admin, logs: &logBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(binary, "--config", cfg)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("log of %s:\n%s", addr, p.logs.String())
		}
	})
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("proxy did not start:\n%s", p.logs.String())
	return nil
}

// stop kills the process and waits for it; a second call does nothing.
func (p *proxyProc) stop() {
	_ = p.cmd.Process.Kill()
	if err, ok := <-p.done; ok {
		_ = err
		close(p.done)
	}
}

// clusterGet fetches target through the proxy at addr.
func clusterGet(t *testing.T, addr, target string) (*http.Response, string) {
	t.Helper()
	pu, _ := url.Parse("http://" + addr)
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu), DisableKeepAlives: true}, Timeout: 20 * time.Second}
	resp, err := c.Get(target)
	if err != nil {
		t.Fatalf("GET %s via %s: %v", target, addr, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// clusterStats reads the "cluster" object of a node's /stats.
func clusterStats(t *testing.T, admin string) map[string]any {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	c, _ := s["cluster"].(map[string]any)
	return c
}

// peerUp reports what the node at admin thinks of peer name.
func peerUp(t *testing.T, admin, name string) bool {
	t.Helper()
	peers, _ := clusterStats(t, admin)["peers"].([]any)
	for _, p := range peers {
		m := p.(map[string]any)
		if m["name"] == name {
			return m["up"] == true
		}
	}
	t.Fatalf("no peer %q in /stats of %s", name, admin)
	return false
}

// waitPeer waits until every node in from sees peer name as up or down.
func waitPeer(t *testing.T, from []*clusterNode, name string, up bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range from {
		for peerUp(t, n.admin, name) != up {
			if time.Now().After(deadline) {
				t.Fatalf("%s never saw %s up=%v", n.name, name, up)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// Issue 14: three nodes on 127.0.0.2-4 act as one cache. Each URL is
// fetched once whichever node (or HAProxy) it is asked through, by its
// owner; a stopped node costs only its own URLs, which return to it when it
// comes back; the PAC file picks the same owners; a node whose only route
// is a parent proxy goes through it.
func TestClusterOneCache(t *testing.T) {
	origin := newURLCountingOrigin()
	oaddr := startOrigin(t, origin)
	_, oport, _ := net.SplitHostPort(oaddr)

	names := []string{"n1", "n2", "n3"}
	nodes := make([]*clusterNode, 3)
	var peers strings.Builder
	var members []cluster.Member
	for i, name := range names {
		nodes[i] = &clusterNode{name: name, addr: portOn(t, fmt.Sprintf("127.0.0.%d", i+2)), admin: freePort(t)}
		fmt.Fprintf(&peers, "    - {name: %s, address: %q}\n", name, nodes[i].addr)
		members = append(members, cluster.Member{Name: name, Weight: 1})
	}
	tab, err := cluster.New(members)
	if err != nil {
		t.Fatal(err)
	}
	cfgOf := func(self string) string {
		return fmt.Sprintf("tunnel:\n  allowed_ports: [%s]\ncluster:\n  self: %s\n  probe_interval: 200ms\n  probe_timeout: 5s\n  peers:\n%spac:\n  cluster: true\n",
			oport, self, peers.String())
	}
	start := func(n *clusterNode) { n.proc = startNamed(t, n.addr, n.admin, cfgOf(n.name)) }
	for _, n := range nodes {
		start(n)
	}
	for _, n := range nodes {
		waitPeer(t, nodes, n.name, true)
	}

	const count = 300
	urls := make([]string, count)
	owner := make([]int, count)
	for i := range urls {
		urls[i] = fmt.Sprintf("http://%s/obj/%d", oaddr, i)
		owner[i] = tab.Owner([]byte(urls[i]), nil)
	}
	path := func(i int) string { return fmt.Sprintf("/obj/%d", i) }
	lastVia := func(via string) string {
		parts := strings.Split(via, ",")
		f := strings.Fields(parts[len(parts)-1])
		return f[len(f)-1]
	}

	// Through any node: one fetch each, by the owner.
	for i, u := range urls {
		if _, body := clusterGet(t, nodes[i%3].addr, u); body != "object "+path(i) {
			t.Fatalf("%s: got body %q", u, body)
		}
	}
	for i := range urls {
		n, via := origin.get(path(i))
		if n != 1 {
			t.Fatalf("%s: got %d origin fetches, want 1", urls[i], n)
		}
		if got, want := lastVia(via), names[owner[i]]; got != want {
			t.Fatalf("%s: fetched by %q (Via %q), want its owner %q", urls[i], got, via, want)
		}
	}
	// Through the other nodes: all hits at the owner.
	for i, u := range urls {
		clusterGet(t, nodes[(i+1)%3].addr, u)
		clusterGet(t, nodes[(i+2)%3].addr, u)
	}
	for i := range urls {
		if n, _ := origin.get(path(i)); n != 1 {
			t.Fatalf("%s: got %d origin fetches after asking every node, want 1", urls[i], n)
		}
	}

	t.Run("collapsing across the hop", func(t *testing.T) {
		p := "/collapse"
		origin.mu.Lock()
		origin.delay[p] = 300 * time.Millisecond
		origin.mu.Unlock()
		var wg sync.WaitGroup
		for i := 0; i < 100; i++ {
			wg.Go(func() { clusterGet(t, nodes[i%3].addr, "http://"+oaddr+p) })
		}
		wg.Wait()
		if n, _ := origin.get(p); n != 1 {
			t.Errorf("100 concurrent misses over 3 nodes: got %d origin fetches, want 1", n)
		}
	})

	t.Run("PAC choices equal owners", func(t *testing.T) {
		resp, err := http.Get("http://" + nodes[0].addr + "/proxy.pac")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got := runPAC(t, string(b), urls)
		for i := range urls {
			first := strings.TrimPrefix(strings.SplitN(got[i], ";", 2)[0], "PROXY ")
			if want := nodes[owner[i]].addr; first != want {
				t.Fatalf("%s: PAC chose %q, want the owner %s", urls[i], got[i], want)
			}
		}
	})

	t.Run("purge at any node removes it at the owner", func(t *testing.T) {
		i := 7
		via := nodes[(owner[i]+1)%3]
		req, _ := http.NewRequest("PURGE", urls[i], nil)
		pu, _ := url.Parse("http://" + via.addr)
		c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("PURGE via %s: got %d, want 200 from the owner", via.name, resp.StatusCode)
		}
		clusterGet(t, nodes[(owner[i]+2)%3].addr, urls[i])
		if n, _ := origin.get(path(i)); n != 2 {
			t.Fatalf("after PURGE: got %d origin fetches, want 2", n)
		}
		origin.mu.Lock()
		origin.count[path(i)] = 1
		origin.mu.Unlock()
	})

	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Log("haproxy is not installed (make test-deps installs it): the HAProxy part is skipped")
	} else {
		t.Run("through HAProxy", func(t *testing.T) {
			front := startHAProxy(t, nodes)
			for i, u := range urls {
				if _, body := clusterGet(t, front, u); body != "object "+path(i) {
					t.Fatalf("%s through HAProxy: got body %q", u, body)
				}
			}
			for i := range urls {
				if n, _ := origin.get(path(i)); n != 1 {
					t.Fatalf("%s: got %d origin fetches through HAProxy, want 1", urls[i], n)
				}
			}
			fresh := "http://" + oaddr + "/via-haproxy"
			clusterGet(t, front, fresh)
			clusterGet(t, front, fresh)
			if n, _ := origin.get("/via-haproxy"); n != 1 {
				t.Errorf("a new URL twice through HAProxy: got %d origin fetches, want 1", n)
			}
			connectThrough(t, front, oaddr)
		})
	}

	// One node stopped: only its URLs are fetched again.
	down := 2
	nodes[down].proc.stop()
	alive := []*clusterNode{nodes[0], nodes[1]}
	waitPeer(t, alive, names[down], false)
	moved := 0
	for i, u := range urls {
		clusterGet(t, alive[i%2].addr, u)
		clusterGet(t, alive[(i+1)%2].addr, u)
	}
	for i := range urls {
		n, _ := origin.get(path(i))
		want := 1
		if owner[i] == down {
			want = 2
			moved++
		}
		if n != want {
			t.Fatalf("%s (owner %s) with %s stopped: got %d origin fetches, want %d", urls[i], names[owner[i]], names[down], n, want)
		}
	}
	if share := float64(moved) / count; share < 0.2 || share > 0.47 {
		t.Errorf("share fetched again: got %.2f, want about a third", share)
	}
	t.Logf("with %s stopped, %d of %d URLs were fetched again", names[down], moved, count)

	// Restarted: its URLs return to it (its cache is empty, so it fetches
	// them once more; every other URL stays a hit).
	start(nodes[down])
	waitPeer(t, alive, names[down], true)
	for round := 0; round < 2; round++ {
		for i, u := range urls {
			clusterGet(t, nodes[i%3].addr, u)
		}
	}
	for i := range urls {
		n, via := origin.get(path(i))
		want := 1
		if owner[i] == down {
			want = 3
			if got := lastVia(via); got != names[down] {
				t.Fatalf("%s after the restart: fetched by %q, want %s", urls[i], got, names[down])
			}
		}
		if n != want {
			t.Fatalf("%s (owner %s) after the restart: got %d origin fetches, want %d", urls[i], names[owner[i]], n, want)
		}
	}

	// Peer state, requests and failures in /metrics, valid for promtool.
	m := scrape(t, nodes[0].admin)
	if got := m.sum("edgeproxy_cluster_peer_up", "peer", names[down]); got != 1 {
		t.Errorf("edgeproxy_cluster_peer_up{peer=%q}: got %v, want 1", names[down], got)
	}
	if got := m.sum("edgeproxy_cluster_peer_failures_total", "peer", names[down]); got < 1 {
		t.Errorf("edgeproxy_cluster_peer_failures_total{peer=%q}: got %v, want at least 1", names[down], got)
	}
	if got := m.sum("edgeproxy_cluster_peer_requests_total", "peer", names[1]); got < 1 {
		t.Errorf("edgeproxy_cluster_peer_requests_total{peer=%q}: got %v, want some", names[1], got)
	}
	if got := m.sum("edgeproxy_cluster_from_peer_requests_total"); got < 1 {
		t.Errorf("edgeproxy_cluster_from_peer_requests_total: got %v, want some", got)
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		resp, err := http.Get("http://" + nodes[0].admin + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		text, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(string(text))
		if out, err := cmd.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	}
}

// runPAC evaluates FindProxyForURL for each URL in node, with a host name
// that is not loopback (the file sends 127.* direct, as the plain one does).
func runPAC(t *testing.T, pac string, urls []string) []string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed (make test-deps installs nodejs): %v", err)
	}
	dir := t.TempDir()
	script := `
function isPlainHostName(h) { return h.indexOf(".") < 0; }
function dnsDomainIs(h, d) { return h.length >= d.length && h.substring(h.length - d.length) == d; }
function shExpMatch(s, p) { return new RegExp("^" + p.replace(/\./g, "\\.").replace(/\*/g, ".*") + "$").test(s); }
` + pac + `
const urls = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(urls.map(u => FindProxyForURL(u, "origin.example"))));
`
	f := filepath.Join(dir, "pac.js")
	if err := os.WriteFile(f, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(urls)
	cmd := exec.Command(node, f)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node output: %v\n%s", err, out)
	}
	return got
}

// startHAProxy runs HAProxy with the shipped dist/haproxy.cfg, its example
// addresses replaced by the nodes', and returns its front address.
func startHAProxy(t *testing.T, nodes []*clusterNode) string {
	t.Helper()
	b, err := os.ReadFile("dist/haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	front := freePort(t)
	cfg := string(b)
	cfg = strings.Replace(cfg, "bind :3128", "bind "+front, 1)
	for i, n := range nodes {
		cfg = strings.Replace(cfg, fmt.Sprintf("10.0.0.%d:3128", i+11), n.addr, 1)
	}
	cfg = strings.Replace(cfg, "daemon\n", "", 1)
	dir := t.TempDir()
	f := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(f, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("haproxy", "-c", "-f", f).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	cmd := exec.Command("haproxy", "-db", "-f", f)
	logs := &logBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("haproxy log:\n%s", logs.String())
		}
	})
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("tcp", front); err == nil {
			c.Close()
			return front
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("haproxy did not start:\n%s", logs.String())
	return ""
}

// connectThrough opens a CONNECT tunnel through proxy to target and sends
// a plain HTTP request inside it.
func connectThrough(t *testing.T, proxy, target string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", proxy, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: "CONNECT"})
	if err != nil {
		t.Fatalf("CONNECT through %s: %v", proxy, err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("CONNECT through %s: got %d, want 200", proxy, resp.StatusCode)
	}
	fmt.Fprintf(c, "GET /in-tunnel HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target)
	inner, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("request in the tunnel: %v", err)
	}
	b, _ := io.ReadAll(inner.Body)
	if string(b) != "object /in-tunnel" {
		t.Fatalf("in the tunnel: got %q, want %q", b, "object /in-tunnel")
	}
}

// Issue 14: a node whose only route is its parent (never_direct, the
// default with upstream.parents) sends fills, pass-through requests and
// CONNECT through it with Basic credentials; the origin sees the parent in
// Via; with the parent down the child answers 503 rather than go direct.
func TestParentChain(t *testing.T) {
	origin := newURLCountingOrigin()
	oaddr := startOrigin(t, origin)
	_, oport, _ := net.SplitHostPort(oaddr)

	dir := t.TempDir()
	sum := sha1.Sum([]byte("s3cret"))
	htpasswd := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(htpasswd, []byte("child:{SHA}"+base64.StdEncoding.EncodeToString(sum[:])+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	parent := startNamed(t, portOn(t, "127.0.0.5"), freePort(t), fmt.Sprintf(
		"name: parent\nauth:\n  basic_file: %q\ntunnel:\n  allowed_ports: [%s]\n", htpasswd, oport))
	child := startNamed(t, portOn(t, "127.0.0.6"), freePort(t), fmt.Sprintf(
		"name: child\ntunnel:\n  allowed_ports: [%s]\ncluster:\n  probe_interval: 200ms\nupstream:\n  parents:\n    - {name: corp, address: %q, username: child, password: s3cret}\n", oport, parent.addr))

	resp, body := clusterGet(t, child.addr, "http://"+oaddr+"/fill")
	if resp.StatusCode != 200 || body != "object /fill" {
		t.Fatalf("fill through the parent: got %d %q", resp.StatusCode, body)
	}
	clusterGet(t, child.addr, "http://"+oaddr+"/fill")
	n, via := origin.get("/fill")
	if n != 1 {
		t.Errorf("fill: got %d origin fetches, want 1", n)
	}
	if via != "1.1 child, 1.1 parent" {
		t.Errorf("fill: origin saw Via %q, want %q", via, "1.1 child, 1.1 parent")
	}

	pu, _ := url.Parse("http://" + child.addr)
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}}
	pr, err := c.Post("http://"+oaddr+"/post", "text/plain", strings.NewReader("data"))
	if err != nil {
		t.Fatal(err)
	}
	pr.Body.Close()
	if _, via := origin.get("/post"); pr.StatusCode != 200 || via != "1.1 child, 1.1 parent" {
		t.Errorf("POST through the parent: got %d, Via %q; want 200, %q", pr.StatusCode, via, "1.1 child, 1.1 parent")
	}

	connectThrough(t, child.addr, oaddr)

	parent.stop()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, _ := clusterGet(t, child.addr, "http://"+oaddr+"/after")
		if resp.StatusCode == 503 {
			break
		}
		if resp.StatusCode == 200 {
			t.Fatalf("with the parent down: got 200, want no direct fetch")
		}
		if time.Now().After(deadline) {
			t.Fatalf("with the parent down: got %d, want 503 once it is marked down", resp.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n, _ := origin.get("/after"); n != 0 {
		t.Errorf("with the parent down: the origin was reached %d times directly", n)
	}
}
