-- report.lua: shared done() for the bench's wrk scripts.
--
-- wrk's text summary has no p99.9 and rounds its counters, so every script
-- ends the run with one machine-readable line the harness parses:
--   BENCHJSON {"requests":N,"duration_us":N,...,"p999_us":N}
-- done() runs once, in wrk's main Lua state, after all threads finished.

local M = {}

function M.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d,' ..
    '"lat_mean_us":%.1f,"lat_max_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
end

return M
