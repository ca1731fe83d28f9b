package main

import "errors"

// Sentinel errors of the replay.
var (
	// errNotLoopback means -proxy does not name a loopback address: the
	// replay only ever talks to this machine.
	errNotLoopback = errors.New("replay: proxy must be a loopback address such as 127.0.0.1:3128")

	// errFormat means the log is in neither format the replay reads.
	errFormat = errors.New("replay: log format not recognised")

	// errEmpty means the log holds no GET request.
	errEmpty = errors.New("replay: no GET request in the log")

	// errTooManyClients means -bind-clients was asked for more clients than
	// 127.1.0.0/16 has addresses.
	errTooManyClients = errors.New("replay: more than 65535 clients for -bind-clients")
)
