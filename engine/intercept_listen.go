package engine

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync"

	"github.com/panjf2000/gnet/v2"

	"edgeproxy/engine/acl"
	"edgeproxy/engine/config"
	"edgeproxy/engine/intercept"
)

// Interception (issue 15): listeners with a mode.
//
// forward and intercept listeners are gnet's (gnet.Rotate serves several);
// a connection is told apart by the local port it arrived on, and an
// intercept connection's original destination is read once, at accept,
// from the socket (SO_ORIGINAL_DST: one getsockopt, cheap on the loop).
// A tproxy listener must be IP_TRANSPARENT before bind, which gnet cannot
// set: a Go listener accepts there (one goroutine per listener) and hands
// each connection to an event loop (Engine.Register), with its original
// destination, the connection's local address, as the gnet context.

// interception is what the proxy knows about an intercepted connection.
// Its fields belong to the connection's event loop.
type interception struct {
	route route // where the current request goes (clientConn.route)
	mode  config.ListenerMode
	dst   netip.AddrPort // where the client meant to connect
	// loop: the original destination is the proxy itself (or unknown),
	// which would make the proxy connect to itself; every request is
	// refused.
	loop bool
	// sniffed: the first bytes were looked at, and were not a TLS
	// ClientHello still arriving; the connection carries HTTP from then on.
	sniffed bool
	scratch []byte // ServerName's reassembly buffer
	// Scratch for the current request, reused: the Host verdict key, the
	// absolute URL, a Host made of the address.
	key, target, host []byte
}

const (
	modeTproxy    = config.ModeTproxy
	modeIntercept = config.ModeIntercept
)

// interceptState is the server's part of interception.
type interceptState struct {
	listeners []config.Listener
	modes     map[int]config.ListenerMode // by port, for the gnet listeners
	nat       bool                        // an intercept listener is among them
	tproxy    []net.Listener
	enrollMu  sync.Mutex // serialises Engine.Register, whose round robin is not safe for concurrent use
	// running is closed at the first tick: gnet calls OnBoot before it
	// starts the event loops, and Register may be called only after.
	running     chan struct{}
	runningOnce sync.Once
	verify      hostVerifier
}

// newInterceptState records the listeners of cfg and points set.listen at
// the first gnet listener; fix completes it once that address is resolved.
func newInterceptState(cfg *config.Config, set *settings) *interceptState {
	st := &interceptState{
		listeners: append([]config.Listener(nil), cfg.AllListeners()...),
		modes:     make(map[int]config.ListenerMode),
		running:   make(chan struct{}),
	}
	if len(cfg.Listeners) > 0 {
		for _, l := range st.listeners {
			if l.Mode != config.ModeTproxy {
				set.listen = l.Address
				break
			}
		}
	}
	return st
}

// fix applies the resolved listen address (port 0 replaced) to the
// listener it came from, and indexes the modes by port.
func (st *interceptState) fix(original, resolved string) {
	for i := range st.listeners {
		l := &st.listeners[i]
		if l.Address == original && l.Mode != config.ModeTproxy {
			l.Address = resolved
		}
		if l.Mode == config.ModeIntercept {
			st.nat = true
		}
		if _, p, err := net.SplitHostPort(l.Address); err == nil {
			if port, err := strconv.Atoi(p); err == nil {
				st.modes[port] = l.Mode
			}
		}
	}
}

// listenerAddrs are every listener's addresses, for the destinations the
// proxy never connects to.
func (s *Server) listenerAddrs() []string {
	out := make([]string, 0, len(s.icpt.listeners))
	for _, l := range s.icpt.listeners {
		out = append(out, l.Address)
	}
	return out
}

// gnetAddrs are the addresses the event loops accept on.
func (s *Server) gnetAddrs() []string {
	var out []string
	for _, l := range s.icpt.listeners {
		if l.Mode != config.ModeTproxy {
			out = append(out, "tcp://"+l.Address)
		}
	}
	return out
}

// openTransparent opens the tproxy listeners; Serve calls it before the
// event loops start, so that a listener that cannot open stops start-up.
func (s *Server) openTransparent() error {
	for _, l := range s.icpt.listeners {
		if l.Mode != config.ModeTproxy {
			continue
		}
		ln, err := intercept.ListenTransparent(context.Background(), l.Address)
		if err != nil {
			s.closeTransparent()
			return keyError("listeners", err)
		}
		s.icpt.tproxy = append(s.icpt.tproxy, ln)
	}
	return nil
}

// acceptTransparent runs the tproxy listeners' accept loops; OnBoot starts
// it once the engine can take connections.
func (s *Server) acceptTransparent() {
	for _, ln := range s.icpt.tproxy {
		go s.acceptLoop(ln)
	}
}

// markRunning records that the event loops run; OnTick calls it.
func (st *interceptState) markRunning() {
	st.runningOnce.Do(func() { close(st.running) })
}

func (s *Server) acceptLoop(ln net.Listener) {
	select {
	case <-s.icpt.running:
	case <-s.stopped:
		return
	}
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("tproxy accept failed", "err", err)
			continue
		}
		ic := &interception{mode: config.ModeTproxy}
		if a, ok := nc.LocalAddr().(*net.TCPAddr); ok {
			ic.dst = a.AddrPort()
			ic.dst = netip.AddrPortFrom(ic.dst.Addr().Unmap(), ic.dst.Port())
		}
		ic.loop = s.isSelf(ic.dst)
		ctx := gnet.NewNetConnContext(gnet.NewContext(context.Background(), ic), nc)
		s.icpt.enrollMu.Lock()
		ch, err := s.eng.Register(ctx)
		s.icpt.enrollMu.Unlock()
		if err != nil {
			_ = nc.Close()
			continue
		}
		go func() {
			// Enroll duplicates the descriptor; the Go side closes its own.
			<-ch
			_ = nc.Close()
		}()
	}
}

// closeTransparent closes the tproxy listeners; their accept loops end.
func (s *Server) closeTransparent() {
	for _, ln := range s.icpt.tproxy {
		_ = ln.Close()
	}
	s.icpt.tproxy = nil
}

// interceptionOf classifies a connection the event loops accepted, or one
// handed over by a tproxy accept loop (ic). It returns nil for a forward
// listener's connection.
func (s *Server) interceptionOf(c gnet.Conn, ic *interception) *interception {
	if ic != nil {
		return ic
	}
	if !s.icpt.nat {
		return nil
	}
	la, ok := c.LocalAddr().(*net.TCPAddr)
	if !ok || s.icpt.modes[la.Port] != config.ModeIntercept {
		return nil
	}
	local := la.AddrPort()
	local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	ic = &interception{mode: config.ModeIntercept}
	// A dual-stack listener's socket is AF_INET6 even for an IPv4 client:
	// the level that answers depends on the socket, so both are asked.
	v6 := !local.Addr().Is4()
	dst, err := intercept.OriginalDst(c.Fd(), v6)
	if err != nil {
		dst, err = intercept.OriginalDst(c.Fd(), !v6)
	}
	if err != nil {
		s.log.Debug("intercepted connection without an original destination", "client", remoteAddr(c), "err", err)
	}
	ic.dst = dst
	// Without a redirect the original destination is the listener itself:
	// the client connected to the proxy's port directly.
	ic.loop = err != nil || dst == local || s.isSelf(dst)
	return ic
}

// isSelf reports whether dst is one of the proxy's own listeners.
func (s *Server) isSelf(dst netip.AddrPort) bool {
	return errors.Is(s.dest.Policy().Check(dst.Addr(), int(dst.Port())), acl.ErrOwnAddress)
}
