package cluster

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func testURLs(n int) [][]byte {
	urls := make([][]byte, n)
	for i := range urls {
		urls[i] = fmt.Appendf(nil, "http://site%d.example/path/%d/object-%d.js?v=%d", i%97, i%13, i, i%7)
	}
	return urls
}

func mustTable(t testing.TB, ms ...Member) *Table {
	t.Helper()
	tab, err := New(ms)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func shares(tab *Table, urls [][]byte, up func(int) bool) []float64 {
	s := make([]float64, tab.Len())
	for _, u := range urls {
		s[tab.Owner(u, up)]++
	}
	for i := range s {
		s[i] /= float64(len(urls))
	}
	return s
}

func TestWeightsGiveProportionalShares(t *testing.T) {
	urls := testURLs(60000)
	cases := []struct {
		name    string
		weights []float64
	}{
		{"equal", []float64{1, 1, 1}},
		{"one two three", []float64{1, 2, 3}},
		{"one heavy", []float64{1, 1, 1, 5}},
		{"single", []float64{2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ms []Member
			var total float64
			for i, w := range tc.weights {
				ms = append(ms, Member{Name: fmt.Sprintf("node%d", i+1), Weight: w})
				total += w
			}
			got := shares(mustTable(t, ms...), urls, nil)
			for i, w := range tc.weights {
				if want := w / total; math.Abs(got[i]-want) > 0.01 {
					t.Errorf("member %d share: got %.3f, want %.3f", i, got[i], want)
				}
			}
		})
	}
}

func TestRemovingAMemberMovesOnlyItsURLs(t *testing.T) {
	tab := mustTable(t, Member{"a", 1}, Member{"b", 1}, Member{"c", 1})
	var order []int
	for _, u := range testURLs(20000) {
		owner := tab.Owner(u, nil)
		order = tab.Order(u, order[:0])
		if order[0] != owner {
			t.Fatalf("%s: Order starts with %d, Owner is %d", u, order[0], owner)
		}
		for down := 0; down < 3; down++ {
			got := tab.Owner(u, func(i int) bool { return i != down })
			want := owner
			if owner == down {
				want = order[1]
			}
			if got != want {
				t.Fatalf("%s with member %d down: got owner %d, want %d", u, down, got, want)
			}
		}
		if got := tab.Owner(u, func(int) bool { return false }); got != -1 {
			t.Fatalf("all down: got %d, want -1", got)
		}
	}
}

func TestAddingAMemberMovesItsShareOnly(t *testing.T) {
	three := mustTable(t, Member{"a", 1}, Member{"b", 1}, Member{"c", 1})
	four := mustTable(t, Member{"a", 1}, Member{"b", 1}, Member{"c", 1}, Member{"d", 1})
	urls := testURLs(40000)
	moved := 0
	for _, u := range urls {
		before, after := three.Owner(u, nil), four.Owner(u, nil)
		if before == after {
			continue
		}
		moved++
		if after != 3 {
			t.Fatalf("%s moved from %d to %d, not to the new member", u, before, after)
		}
	}
	if share := float64(moved) / float64(len(urls)); math.Abs(share-0.25) > 0.02 {
		t.Errorf("share moved: got %.3f, want about 0.25", share)
	}
}

func TestNewRefusesBadMembers(t *testing.T) {
	cases := []struct {
		name string
		ms   []Member
		want error
	}{
		{"none", nil, ErrNoMembers},
		{"empty name", []Member{{"", 1}}, ErrEmptyName},
		{"duplicate", []Member{{"a", 1}, {"a", 2}}, ErrDuplicateName},
		{"zero weight", []Member{{"a", 0}}, ErrWeight},
		{"negative weight", []Member{{"a", -1}}, ErrWeight},
		{"NaN weight", []Member{{"a", math.NaN()}}, ErrWeight},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.ms); err != tc.want {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestOwnerAllocatesNothing(t *testing.T) {
	tab := mustTable(t, Member{"a", 1}, Member{"b", 2}, Member{"c", 3})
	u := []byte("http://example.com/some/object.css")
	up := func(i int) bool { return i != 1 }
	if n := testing.AllocsPerRun(1000, func() { tab.Owner(u, up) }); n != 0 {
		t.Errorf("Owner allocates %v times, want 0", n)
	}
}

// The PAC file's JavaScript must choose exactly what Go chooses: the same
// URLs, including non-ASCII and long ones, are ordered by node (the
// JavaScript engine a PAC file runs in) and by Order.
func TestPACAgreesWithGo(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed (make test-deps installs nodejs): %v", err)
	}
	tables := map[string]*Table{
		"equal":    mustTable(t, Member{"node1", 1}, Member{"node2", 1}, Member{"node3", 1}),
		"weighted": mustTable(t, Member{"edge-a.example", 1}, Member{"edge-b.example", 2.5}, Member{"edge-c.example", 0.7}, Member{"edge-d.example", 4}),
	}
	urls := append(testURLs(3000),
		[]byte("http://xn--bcher-kva.example/b\xc3\xbccher?q=\xe2\x82\xac"),
		[]byte("https://example.com:443"),
		[]byte("http://example.com/"+strings.Repeat("long/", 2000)),
		[]byte("ftp://ftp.example.org/pub/file.tar.gz"),
	)
	strs := make([]string, len(urls))
	for i, u := range urls {
		strs[i] = string(u)
	}
	input, _ := json.Marshal(strs)
	for name, tab := range tables {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			script := tab.AppendPAC(nil)
			script = append(script, `
const urls = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
process.stdout.write(JSON.stringify(urls.map(edgeproxyOrder)));
`...)
			js, in := filepath.Join(dir, "pac.js"), filepath.Join(dir, "urls.json")
			if err := os.WriteFile(js, script, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(in, input, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(node, js, in).Output()
			if err != nil {
				t.Fatalf("node: %v", err)
			}
			var got [][]int
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("node output: %v", err)
			}
			if len(got) != len(urls) {
				t.Fatalf("node ordered %d URLs, want %d", len(got), len(urls))
			}
			var want []int
			for i, u := range urls {
				want = tab.Order(u, want[:0])
				if fmt.Sprint(got[i]) != fmt.Sprint(want) {
					t.Errorf("%.60q: JavaScript order %v, Go order %v", u, got[i], want)
				}
			}
		})
	}
}

func BenchmarkOwner(b *testing.B) {
	tab := mustTable(b, Member{"a", 1}, Member{"b", 1}, Member{"c", 1}, Member{"d", 1})
	u := []byte("http://www.example.com/static/js/app.3f9a2c.js")
	b.ReportAllocs()
	for b.Loop() {
		tab.Owner(u, nil)
	}
}
