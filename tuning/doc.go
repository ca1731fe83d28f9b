// Package tuning checks and adjusts the operating-system settings that cap
// what edgeproxy can carry, and the Go runtime settings that follow from the
// machine it runs on.
//
// The proxy's capacity is bounded outside the process before it is bounded
// inside: the kernel truncates every listen backlog to net.core.somaxconn,
// each proxied connection may hold two descriptors (client and origin) under
// one RLIMIT_NOFILE, origin dials to one address share one ephemeral port
// range, and a cgroup CPU quota throttles event loops that the affinity mask
// says may run. Check reads those values from /proc/sys, getrlimit(2) and the
// process's cgroup and compares each with the minimum the configured Load
// needs (or, where the load does not matter, with the value in sysctl.conf
// beside this file). Report prints the result as the table that
// `edgeproxy tune` shows; Warnings keeps only the rows that cap the load, for
// one log line each at start-up. Nothing here writes a kernel setting: the
// tuning/apply script does that, and only when asked.
//
// ApplyRuntime sizes the Go runtime for the process: a soft memory limit
// derived from the cache size, and GOMAXPROCS from the cgroup CPU quota when
// the runtime does not already do so. Since Go 1.25 (and so in the Go 1.26
// this module builds with) the runtime itself sets GOMAXPROCS to
// min(CPUs in the affinity mask, max(2, ceil(quota))) at start-up and
// re-reads the quota about once a second; calling runtime.GOMAXPROCS(n)
// would switch that tracking off for good. ApplyRuntime therefore leaves
// GOMAXPROCS alone unless the operator disabled the runtime's behaviour with
// GODEBUG=containermaxprocs=0, and leaves both knobs alone when the operator
// set the GOMAXPROCS or GOMEMLIMIT environment variables.
//
// PinThread binds the calling OS thread to one CPU with sched_setaffinity(2),
// for event loops that run on locked threads (engine.pin_cpus).
package tuning
