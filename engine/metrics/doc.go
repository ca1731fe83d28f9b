// Package metrics counts what edgeproxy does and exports it as Prometheus
// text (WritePrometheus, for /metrics) and as JSON (WriteJSON, for /stats).
//
// Record is called once per completed request from event loops and workers,
// so it takes no shared lock and allocates nothing once a label set and a
// client have been seen. Counters live in shards, each behind its own mutex
// held for a few additions; a caller takes the shard cached for its P (a
// sync.Pool of shard pointers, so loops on different Ps rarely meet). A
// scrape locks the shards one at a time and sums them, so a scrape is never
// an atomic snapshot across shards, but every shard is read whole and every
// counter only grows.
//
// Label values are bounded: methods and Squid result codes outside fixed
// tables become "OTHER", and a status outside 100-599 becomes "000", so
// edgeproxy_requests_total has at most a few thousand series.
//
// Accounting per client address and per user lives in tables striped by a
// hash of the key, each stripe a mutex and a map, so one client's updates
// meet only that stripe. Each table tracks at most MaxAccounts distinct keys
// (about 70 bytes each plus the user name, so 7-10 MB per full table);
// requests from keys beyond that are added to the OtherKey bucket and
// counted in edgeproxy_accounting_overflow_total, until ResetAccounts
// empties the table.
package metrics
