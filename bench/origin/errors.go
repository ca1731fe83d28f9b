package main

import "errors"

// errBadSize means an /obj size class is not a number with an optional
// k or m suffix, or exceeds maxObjectSize.
var errBadSize = errors.New("origin: bad size class")
