package main

import "errors"

// errNoSummary means wrk's output lacks the "N requests in T" line: wrk
// did not run to the end.
var errNoSummary = errors.New("benchrun: wrk output has no summary (\"requests in\" line)")

// errBadStat means a /proc/<pid>/stat line could not be read.
var errBadStat = errors.New("benchrun: malformed /proc stat")

// errBaseRev means the revision given for edgeproxy-base (-base-rev) is
// not a commit of the repository benchrun runs in.
var errBaseRev = errors.New("benchrun: bad baseline revision")

// errBaseBuild means exporting or building the baseline revision failed.
var errBaseBuild = errors.New("benchrun: baseline build failed")
