package engine

import (
	"bytes"
	"io"
	"strconv"
	"time"

	"edgeproxy/cache"
	"edgeproxy/engine/gopher"
)

// serveGopher answers a gopher:// request. Menus and search results are
// read whole (gopher.MaxMenu at most) and rendered as HTML; other items
// stream through. Every answer is fresh for gopher.max_age: Gopher carries
// no dates to derive a lifetime from.
func (ex *exchange) serveGopher(w sink) {
	t := ex.alt.gopher
	url := gopher.URL(t.Host, t.Port, t.Type, t.Selector)
	if t.Type == '7' && !t.HasSearch {
		body := gopher.AppendSearchPage(nil, url)
		ex.sendPage(w, 200, fields("Content-Type", "text/html; charset=utf-8"), body)
		return
	}
	maxAge := "max-age=" + strconv.FormatInt(int64(time.Duration(ex.s.set.schemes.gopher.MaxAge)/time.Second), 10)
	hs := fields("Content-Type", t.ContentType(), "Cache-Control", maxAge)
	ex.reqTime = time.Now()
	ex.s.stats.OriginConns().Add(1)
	defer ex.s.stats.OriginConns().Add(-1)
	conn, err := gopher.Fetch(t, ex.s.dialScheme, ex.s.set.origin.connect, ex.s.set.origin.idle)
	ex.s.stats.ObserveOrigin(time.Since(ex.reqTime))
	if err != nil {
		ex.s.log.Debug("gopher fetch failed", "url", ex.target, "err", err)
		ex.replyError(w, err)
		return
	}
	defer conn.Close() //nolint:errcheck
	ex.peer = peerAddr(conn.Peer())
	var src io.Reader = conn
	size := int64(-1)
	switch {
	case t.Menu():
		if t.HasSearch {
			url += "?" + t.Search
		}
		page, err := gopher.AppendMenu(nil, conn, url)
		if err != nil {
			ex.s.log.Debug("gopher menu refused", "url", ex.target, "err", err)
			ex.replyError(w, err)
			return
		}
		src, size = bytes.NewReader(page), int64(len(page))
	case t.Type == '0':
		src = gopher.TextReader(conn)
	}
	ex.startFill(&cache.Meta{Status: 200, Header: hs, RequestTime: ex.reqTime, ResponseTime: time.Now(), ContentLength: size})
	ex.sendBody(w, 200, hs, src, size)
}
