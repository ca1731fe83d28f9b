package tracelog

// Request is one request a shared cache could answer from storage: a GET
// of a full object.
type Request struct {
	Index  int    // position in Log.Records
	Key    string // the URL as logged
	Size   int64  // the object's size at that moment
	Client int    // index of the client in order of first appearance
	Time   int64  // unix milliseconds
}

// Cacheable returns the requests of l that a simulated cache sees: GETs
// answered 200 with a size, and 304s, which stand for the object the client
// already had and are given the size of the URL's latest 200 (a 304 before
// any 200 of its URL is left out). Everything else (other methods, other
// statuses, empty bodies) passes a cache by and is left out. A change of
// size is a new version of the object: a cache holding the old one misses.
func Cacheable(l *Log) []Request {
	sizes := make(map[string]int64)
	clients := make(map[string]int)
	var out []Request
	for i := range l.Records {
		r := &l.Records[i]
		if r.Method != "GET" {
			continue
		}
		var size int64
		switch r.Status {
		case 200:
			if r.Size <= 0 {
				continue
			}
			size = r.Size
			sizes[r.URL] = size
		case 304:
			if size = sizes[r.URL]; size == 0 {
				continue
			}
		default:
			continue
		}
		c, ok := clients[r.Client]
		if !ok {
			c = len(clients)
			clients[r.Client] = c
		}
		out = append(out, Request{Index: i, Key: r.URL, Size: size, Client: c, Time: r.Time.UnixMilli()})
	}
	return out
}

// Distinct returns the number of distinct objects in reqs and their bytes,
// each object counted once at its largest size.
func Distinct(reqs []Request) (objects int, bytes int64) {
	largest := make(map[string]int64)
	for _, r := range reqs {
		largest[r.Key] = max(largest[r.Key], r.Size)
	}
	for _, s := range largest {
		bytes += s
	}
	return len(largest), bytes
}
