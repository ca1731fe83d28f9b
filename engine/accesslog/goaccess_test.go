package accesslog

import (
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestGoAccessParses writes a log in each format through a Writer and has
// GoAccess (Debian package goaccess) parse it: every record must count as a
// valid request. GoAccess's predefined SQUID format expects a syslog prefix,
// so Squid's native access.log is read with the README's explicit format,
// which parses every field (user and content type included).
func TestGoAccessParses(t *testing.T) {
	bin, err := exec.LookPath("goaccess")
	if err != nil {
		t.Skip("goaccess not on PATH (Debian package goaccess)")
	}
	tests := []struct {
		format Format
		args   []string
	}{
		{FormatSquid, []string{"--log-format=%x.%^ %~%L %h %^/%s %b %m %U %e %^ %M", "--date-format=%s", "--time-format=%s"}},
		{FormatCommon, []string{"--log-format=COMMON"}},
		{FormatCombined, []string{"--log-format=COMBINED"}},
	}
	records := []Record{miss, denied, {
		Time: t0.Add(time.Second), Elapsed: 2 * time.Second, Client: netip.MustParseAddr("2001:db8::7"),
		Code: CodeRefreshUnmodified, Status: 304, Bytes: 180, Method: "GET",
		URL: "http://static.example.com/app.js", User: "carol", Hierarchy: HierDirect, Peer: "2001:db8::80",
		ContentType: "application/javascript", UserAgent: `Mozilla/5.0 (X11; Linux x86_64) "quoted"`,
	}, {
		Time: t0.Add(2 * time.Second), Client: netip.MustParseAddr("198.51.100.4"),
		Code: CodeTunnel, Status: 200, Bytes: 52311, Method: "CONNECT", URL: "example.org:443",
	}}
	for _, tt := range tests {
		t.Run(tt.format.String(), func(t *testing.T) {
			dir := t.TempDir()
			logPath := filepath.Join(dir, "access.log")
			w, err := Open(logPath, tt.format)
			if err != nil {
				t.Fatal(err)
			}
			for i := range records {
				w.Log(&records[i])
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			report := filepath.Join(dir, "report.json")
			args := append([]string{logPath, "--no-global-config", "-o", report}, tt.args...)
			if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
				t.Fatalf("goaccess: %v\n%s", err, out)
			}
			data, err := os.ReadFile(report)
			if err != nil {
				t.Fatal(err)
			}
			var r struct {
				General struct {
					Total  int `json:"total_requests"`
					Valid  int `json:"valid_requests"`
					Failed int `json:"failed_requests"`
				} `json:"general"`
			}
			if err := json.Unmarshal(data, &r); err != nil {
				t.Fatal(err)
			}
			if g := r.General; g.Total != len(records) || g.Valid != len(records) || g.Failed != 0 {
				t.Errorf("got total %d valid %d failed %d, want %d %d 0", g.Total, g.Valid, g.Failed, len(records), len(records))
			}
		})
	}
}
