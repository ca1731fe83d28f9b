package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// wrkResult is one wrk run as read from its output: wrk's own text summary
// plus the BENCHJSON line printed by bench/wrk/report.lua. Latencies are in
// milliseconds.
type wrkResult struct {
	Threads  int     `json:"threads"`
	Conns    int     `json:"conns"`
	Requests int64   `json:"requests"`
	Seconds  float64 `json:"seconds"`
	RPS      float64 `json:"rps"`
	LatAvg   float64 `json:"lat_avg_ms"`
	LatMax   float64 `json:"lat_max_ms"`
	P50      float64 `json:"p50_ms"`
	P75      float64 `json:"p75_ms"`
	P90      float64 `json:"p90_ms"`
	P99      float64 `json:"p99_ms"`
	P999     float64 `json:"p999_ms"` // from BENCHJSON only; 0 without it
	ReadMiB  float64 `json:"read_mib"`

	ErrConnect int64 `json:"err_connect"`
	ErrRead    int64 `json:"err_read"`
	ErrWrite   int64 `json:"err_write"`
	ErrTimeout int64 `json:"err_timeout"`
	Non2xx     int64 `json:"non_2xx_3xx"`

	HasJSON bool `json:"has_benchjson"`

	// CPUSeconds is wrk's own user+system time (from its exit status).
	CPUSeconds float64 `json:"cpu_s,omitempty"`
}

// benchJSON mirrors the line written by report.lua's done().
type benchJSON struct {
	Requests   int64   `json:"requests"`
	DurationUS int64   `json:"duration_us"`
	Bytes      int64   `json:"bytes"`
	ErrConnect int64   `json:"err_connect"`
	ErrRead    int64   `json:"err_read"`
	ErrWrite   int64   `json:"err_write"`
	ErrStatus  int64   `json:"err_status"`
	ErrTimeout int64   `json:"err_timeout"`
	LatMeanUS  float64 `json:"lat_mean_us"`
	LatMaxUS   int64   `json:"lat_max_us"`
	P50US      int64   `json:"p50_us"`
	P90US      int64   `json:"p90_us"`
	P99US      int64   `json:"p99_us"`
	P999US     int64   `json:"p999_us"`
}

// parseWrk reads wrk 4.x output (with --latency). It needs the
// "N requests in T, B read" line; everything else is optional. When the
// BENCHJSON line is present its exact counters win over wrk's rounded text.
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	var sawSummary, inDist bool
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "BENCHJSON "):
			var j benchJSON
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "BENCHJSON ")), &j); err != nil {
				return r, fmt.Errorf("benchrun: BENCHJSON line: %w", err)
			}
			r.HasJSON = true
			r.Requests = j.Requests
			if j.DurationUS > 0 {
				r.Seconds = float64(j.DurationUS) / 1e6
				r.RPS = float64(j.Requests) / r.Seconds
			}
			r.ErrConnect, r.ErrRead, r.ErrWrite, r.ErrTimeout = j.ErrConnect, j.ErrRead, j.ErrWrite, j.ErrTimeout
			r.Non2xx = j.ErrStatus
			r.P50 = float64(j.P50US) / 1000
			r.P90 = float64(j.P90US) / 1000
			r.P99 = float64(j.P99US) / 1000
			r.P999 = float64(j.P999US) / 1000
			r.LatAvg = j.LatMeanUS / 1000
			r.LatMax = float64(j.LatMaxUS) / 1000
			r.ReadMiB = float64(j.Bytes) / (1 << 20)
			sawSummary = true
		case r.HasJSON:
			// The exact line already filled everything.
		case len(f) >= 4 && f[1] == "threads" && f[2] == "and":
			r.Threads, _ = strconv.Atoi(f[0])
			r.Conns, _ = strconv.Atoi(f[3])
		case len(f) >= 4 && f[0] == "Latency" && !inDist:
			r.LatAvg, _ = parseWrkDuration(f[1])
			r.LatMax, _ = parseWrkDuration(f[3])
		case line == "Latency Distribution":
			inDist = true
		case inDist && len(f) == 2 && strings.HasSuffix(f[0], "%"):
			v, err := parseWrkDuration(f[1])
			if err != nil {
				return r, err
			}
			switch f[0] {
			case "50%":
				r.P50 = v
			case "75%":
				r.P75 = v
			case "90%":
				r.P90 = v
			case "99%":
				r.P99 = v
			}
		case len(f) >= 6 && f[1] == "requests" && f[2] == "in":
			inDist = false
			sawSummary = true
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return r, fmt.Errorf("benchrun: wrk requests %q: %w", f[0], err)
			}
			r.Requests = n
			d, err := parseWrkDuration(strings.TrimSuffix(f[3], ","))
			if err != nil {
				return r, err
			}
			r.Seconds = d / 1000
			r.ReadMiB, _ = parseWrkBytes(f[4])
		case strings.HasPrefix(line, "Socket errors:"):
			// Socket errors: connect 0, read 0, write 0, timeout 12
			for i := 2; i+1 < len(f); i += 2 {
				n, _ := strconv.ParseInt(strings.TrimSuffix(f[i+1], ","), 10, 64)
				switch f[i] {
				case "connect":
					r.ErrConnect = n
				case "read":
					r.ErrRead = n
				case "write":
					r.ErrWrite = n
				case "timeout":
					r.ErrTimeout = n
				}
			}
		case strings.HasPrefix(line, "Non-2xx or 3xx responses:"):
			r.Non2xx, _ = strconv.ParseInt(f[len(f)-1], 10, 64)
		case strings.HasPrefix(line, "Requests/sec:") && len(f) == 2:
			r.RPS, _ = strconv.ParseFloat(f[1], 64)
		}
	}
	if !sawSummary {
		return r, errNoSummary
	}
	return r, nil
}

// failure says why a wrk run must not count, or "" when it is clean.
func (r wrkResult) failure() string {
	var why []string
	if n := r.ErrConnect + r.ErrRead + r.ErrWrite + r.ErrTimeout; n > 0 {
		why = append(why, fmt.Sprintf("socket errors: connect %d, read %d, write %d, timeout %d",
			r.ErrConnect, r.ErrRead, r.ErrWrite, r.ErrTimeout))
	}
	if r.Non2xx > 0 {
		why = append(why, fmt.Sprintf("%d non-2xx/3xx responses", r.Non2xx))
	}
	if r.Requests == 0 {
		why = append(why, "no request completed")
	}
	return strings.Join(why, "; ")
}

// parseWrkDuration converts wrk's time format (651.23us, 1.20ms, 2.00s,
// 1.00m, 1.00h) to milliseconds.
func parseWrkDuration(s string) (float64, error) {
	units := []struct {
		suffix string
		ms     float64
	}{{"us", 1e-3}, {"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("benchrun: wrk duration %q: %w", s, err)
			}
			return v * u.ms, nil
		}
	}
	return 0, fmt.Errorf("benchrun: wrk duration %q: unknown unit", s)
}

// parseWrkBytes converts wrk's byte format (0.00B, 19.84KB, 85.21MB,
// 2.62GB; binary multiples) to MiB.
func parseWrkBytes(s string) (float64, error) {
	units := []struct {
		suffix string
		mib    float64
	}{{"KB", 1.0 / 1024}, {"MB", 1}, {"GB", 1024}, {"TB", 1 << 20}, {"B", 1.0 / (1 << 20)}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("benchrun: wrk bytes %q: %w", s, err)
			}
			return v * u.mib, nil
		}
	}
	return 0, fmt.Errorf("benchrun: wrk bytes %q: unknown unit", s)
}
