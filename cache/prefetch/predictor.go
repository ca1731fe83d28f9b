package prefetch

import (
	"container/list"
	"strings"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Predictor decides what to prefetch after each request: the members of
// the request's prefetch set (a Graph's Candidates), but only for clients
// that have shown they follow predictions. It keeps, per client, the
// predictions made for it that have not lapsed (its next Window requests,
// within Span), and counts those the client then asked for. Until a client
// has followed Proof predictions, nothing is fetched for it: its
// predictions are only remembered, and fetched as soon as it qualifies if
// they are still pending. Nor is anything fetched while the share of the
// predictions made for the client that it followed is below
// ClientPrecision (counted from a prior of one in two, and halved as it
// grows, so that a client can fall below the bar and rise above it again).
// On a site where crawlers fetch pages but not what the pages embed, this
// spends nothing on the crawlers' predictions.
// A Predictor is safe for concurrent use; it is meant for one learner
// goroutine.
type Predictor struct {
	g         *Graph
	proof     int
	precision float64 // ClientPrecision

	mu       sync.Mutex
	sessions map[string]*session
	lru      list.List // *session, front: most recently seen
	set      []Candidate
}

// session is what a Predictor knows of one client.
type session struct {
	name     string
	pend     []prediction
	used     int     // predictions the client followed, at most proof
	made     float64 // predictions made for it (halved with followed)
	followed float64 // of them, asked for while pending
	elem     *list.Element
}

// sessionHalve is the count of predictions made for a client at which
// made and followed are halved.
const sessionHalve = 256

// prediction is one URL predicted for a client.
type prediction struct {
	h       uint64
	c       Candidate
	left    int   // requests of the client before it lapses
	at      int64 // when it was made, unix nanoseconds
	fetched bool  // returned by Observe
}

// NewPredictor returns a Predictor over a new Graph with o: o.Proof
// predictions must have been followed before a client's are fetched, and
// a share o.ClientPrecision of those made for it.
func NewPredictor(o Options) *Predictor {
	g := New(o)
	return &Predictor{g: g, proof: g.opts.Proof, precision: g.opts.ClientPrecision, sessions: make(map[string]*session)}
}

// Graph returns the predictor's graph.
func (p *Predictor) Graph() *Graph { return p.g }

// Observe records that client asked for url at the time at, teaches the
// graph, and appends to dst the predictions to fetch now: those of url's
// prefetch set, and any still pending that waited for the client to
// qualify. Each prediction is returned once while it is pending.
func (p *Predictor) Observe(client, url string, at time.Time, dst []Candidate) []Candidate {
	h := xxhash.Sum64String(url)
	now := at.UnixNano()
	o := &p.g.opts
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.sessions[client]
	if s != nil {
		p.lru.MoveToFront(s.elem)
		keep := s.pend[:0]
		for _, q := range s.pend {
			if q.h == h {
				s.used = min(s.used+1, p.proof)
				s.followed++
				continue
			}
			if q.left--; q.left <= 0 || o.Span > 0 && now-q.at > int64(o.Span) {
				continue
			}
			keep = append(keep, q)
		}
		clear(s.pend[len(keep):])
		s.pend = keep
	}
	p.g.ObserveAt(client, url, at)
	p.set = p.g.Candidates(url, p.set[:0])
	if s == nil {
		if len(p.set) == 0 {
			return dst // nothing to remember
		}
		s = p.newSession(client)
	}
	for _, c := range p.set {
		ch := xxhash.Sum64String(c.URL)
		if ch == h {
			continue
		}
		i := 0
		for i < len(s.pend) && s.pend[i].h != ch {
			i++
		}
		if i < len(s.pend) {
			s.pend[i].left, s.pend[i].at = o.Window, now
			continue
		}
		s.pend = append(s.pend, prediction{h: ch, c: c, left: o.Window, at: now})
		if s.made++; s.made >= sessionHalve {
			s.made, s.followed = s.made/2, s.followed/2
		}
	}
	if s.used >= p.proof && (s.followed+1)/(s.made+2) >= p.precision {
		for i := range s.pend {
			if !s.pend[i].fetched {
				s.pend[i].fetched = true
				dst = append(dst, s.pend[i].c)
			}
		}
	}
	if len(s.pend) == 0 && s.used == 0 {
		p.drop(s) // nothing to remember
	}
	return dst
}

// newSession returns a new session for client name, most recently seen;
// creating one beyond MaxClients drops the least recent.
func (p *Predictor) newSession(name string) *session {
	if len(p.sessions) >= p.g.opts.MaxClients {
		p.drop(p.lru.Back().Value.(*session))
	}
	s := &session{name: strings.Clone(name)}
	s.elem = p.lru.PushFront(s)
	p.sessions[s.name] = s
	return s
}

func (p *Predictor) drop(s *session) {
	p.lru.Remove(s.elem)
	delete(p.sessions, s.name)
}
