package main

import (
	"bufio"
	"net"
	"strconv"
	"strings"
)

// maxSourceBytes bounds one source transfer (16 GiB).
const maxSourceBytes = 16 << 30

// serveSource accepts raw TCP connections, each of which sends one decimal
// byte count terminated by '\n'; the source then writes that many bytes and
// closes. It is the far end of the CONNECT tunnel scenario: any tunnel that
// forwards both directions carries it.
func serveSource(ln net.Listener) {
	chunk := make([]byte, 1<<20)
	fillBody(chunk, 42)
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go sourceConn(c, chunk)
	}
}

func sourceConn(c net.Conn, chunk []byte) {
	defer c.Close()
	line, err := bufio.NewReaderSize(c, 64).ReadString('\n')
	if err != nil {
		return
	}
	n, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	if err != nil || n < 0 || n > maxSourceBytes {
		return
	}
	for n > 0 {
		w := chunk
		if int64(len(w)) > n {
			w = w[:n]
		}
		k, err := c.Write(w)
		if err != nil {
			return
		}
		n -= int64(k)
	}
}
