package main

import (
	"regexp"
	"testing"
)

// servedTo finds the client address the namespaced origin says it served.
var servedTo = regexp.MustCompile(`served by 198\.51\.100\.2:8080 to (192\.0\.2\.2:\d+) `)

// Issue 12: a cache-free request on the tproxy listener (a POST) runs on a
// worker through the strict origin client: it leaves from the client's own
// address, and the next one from the same client reuses that connection,
// since its idle pool is keyed by the source address too.
func TestTproxyPostFromClientAddress(t *testing.T) {
	lab := newNetnsLab(t)
	lab.startProxy(t, "")
	var from []string
	for i := 0; i < 2; i++ {
		out, err := lab.curlFrom(t, "-X", "POST", "-d", "x=1", "--resolve", "origin.test:8080:198.51.100.2", "http://origin.test:8080/post")
		m := servedTo.FindStringSubmatch(out)
		if err != nil || m == nil {
			t.Fatalf("POST %d: got %q, %v; want an answer served to 192.0.2.2", i+1, out, err)
		}
		from = append(from, m[1])
	}
	if from[0] != from[1] {
		t.Errorf("the second POST came from %s, want the first one's connection %s", from[1], from[0])
	}
}
