package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// binaries are the programs a comparison runs.
type binaries struct {
	edgeproxy, gen, replay string
}

// build compiles gen and replay into dir, and edgeproxy too unless
// edgeproxy names a binary already. It runs `go build` in the current
// directory, which must be inside the edgeproxy module.
func build(ctx context.Context, dir, edgeproxy string) (binaries, error) {
	pkgs := []string{"edgeproxy/bench/trace/gen", "edgeproxy/bench/trace/replay"}
	b := binaries{
		edgeproxy: edgeproxy,
		gen:       filepath.Join(dir, "gen"),
		replay:    filepath.Join(dir, "replay"),
	}
	if edgeproxy == "" {
		pkgs = append(pkgs, "edgeproxy/cmd/edgeproxy")
		b.edgeproxy = filepath.Join(dir, "edgeproxy")
	}
	args := append([]string{"build", "-o", dir + string(filepath.Separator)}, pkgs...)
	out, err := exec.CommandContext(ctx, "go", args...).CombinedOutput()
	if err != nil {
		return b, fmt.Errorf("go build (run from the edgeproxy repository): %w\n%s", err, out)
	}
	return b, nil
}

// traceInfo says what was replayed: a generated trace's parameters, or
// only the path of a given log (Requests == 0).
type traceInfo struct {
	Path              string
	Requests, Clients int
	Seed              uint64
}

// generate writes the trace t describes into dir and returns its path.
func generate(ctx context.Context, gen, dir string, t traceInfo) (string, error) {
	path := filepath.Join(dir, "trace.log")
	cmd := exec.CommandContext(ctx, gen,
		"-requests", strconv.Itoa(t.Requests), "-clients", strconv.Itoa(t.Clients),
		"-seed", strconv.FormatUint(t.Seed, 10), "-o", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("gen: %w\n%s", err, out)
	}
	return path, nil
}

// replayResult holds the fields of replay's -json output the report uses.
type replayResult struct {
	Lines               int     `json:"log_lines"`
	Mismatched          int64   `json:"size_mismatched"`
	OriginRequests      int64   `json:"origin_requests"`
	PrefetchBytes       int64   `json:"prefetch_bytes"`
	Clients             int     `json:"clients"`
	Seconds             float64 `json:"seconds"`
	Requests            int64   `json:"requests"`
	Errors              int64   `json:"errors"`
	FirstError          string  `json:"first_error"`
	HitRatio            float64 `json:"hit_ratio"`
	Bytes               int64   `json:"bytes"`
	ByteHitRatio        float64 `json:"byte_hit_ratio"`
	UplinkBytes         int64   `json:"uplink_bytes"`
	Prefetches          int64   `json:"prefetches"`
	PrefetchUseful      int64   `json:"prefetch_useful"`
	PrefetchPrecision   float64 `json:"prefetch_precision"`
	WastedPrefetchBytes int64   `json:"wasted_prefetch_bytes"`
}

// outcome is what one variant measured.
type outcome struct {
	Variant  variant
	Replay   replayResult
	Counters counters
}

// runVariant starts a fresh proxy configured as v, replays the trace at
// path through it, reads its counters and stops it.
func runVariant(ctx context.Context, b binaries, dir, path string, v variant, o options) (outcome, error) {
	out := outcome{Variant: v}
	p, err := startProxy(b.edgeproxy, dir, v, o.cache, o.accessLogs)
	if err != nil {
		return out, err
	}
	defer p.stop()
	res, err := replay(ctx, b.replay, path, p.addr, o.concurrency, o.serial)
	if err != nil {
		return out, err
	}
	out.Replay = *res
	if out.Counters, err = p.scrapeCounters(ctx); err != nil {
		return out, fmt.Errorf("read counters: %w", err)
	}
	return out, nil
}

// replay runs the replay binary against the proxy at addr. A replay whose
// requests partly failed exits with status 1 but still prints its result;
// the failures are then in Errors.
func replay(ctx context.Context, bin, path, addr string, concurrency int, serial bool) (*replayResult, error) {
	var stdout, stderr bytes.Buffer
	args := []string{"-log", path, "-proxy", addr, "-bind-clients", "-json", "-concurrency", strconv.Itoa(concurrency)}
	if serial {
		// The sweep replays exactly what the simulator reads.
		args = append(args, "-serial", "-largest")
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("replay stopped: %w", err)
	}
	var res replayResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || res.Requests == 0 {
		return nil, fmt.Errorf("%w: %v, %v: %s", errReplayOutput, runErr, err, strings.TrimSpace(stderr.String()))
	}
	return &res, nil
}
