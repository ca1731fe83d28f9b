// Package prefetch learns which URLs follow which from a stream of
// (client, URL) requests, so that the proxy can fetch them before they are
// asked for: the dependency graph of Padmanabhan and Mogul ("Using
// Predictive Prefetching to Improve World Wide Web Latency", 1996).
//
// Graph. Each client has a window of its last w requests. When client c
// asks for B, every distinct A in c's window, newest first up to an earlier
// request of B, gains one on its arc A→B; every request of A adds one to
// count(A). So count(A→B) counts the requests of A that were followed by B
// within w requests of the same client, and p(A→B) = count(A→B) / count(A)
// is at most 1. The arcs of A with p ≥ Threshold, strongest first, are A's
// prefetch set.
//
// Time. With a Span, a request is credited only to the client's requests
// made within Span before it: the objects a page embeds follow it within
// seconds, while a crawler's next page, or a person's next visit, comes
// later and predicts little (issue 17).
//
// Predictor. A Predictor wraps a Graph with what each client did with the
// predictions made for it: it fetches a client's predictions only once the
// client has followed Proof of them (asked for a predicted URL while it was
// pending), and then also the earlier ones still pending, and only while
// the client has followed a share ClientPrecision of the predictions made
// for it. Crawlers, which fetch pages but not what they embed, never
// qualify, and their page requests cost nothing.
//
// Bounds. A node keeps its MaxArcs strongest arcs, and a new successor
// replaces the weakest. Nodes are kept in least-recently-requested order and
// the oldest goes when there are MaxNodes; client windows likewise, up to
// MaxClients. Every AgeEvery observations all counts are halved, so the
// graph follows changing traffic, and nodes whose count reaches zero go.
// URLs are interned once per node under their xxhash; arcs hold only the
// hash, and an arc whose target node has gone is not reported.
//
// Logs. ReadSquid and ReadCommon read the GETs of Squid native and
// Common/Combined Log Format access logs, ReadLines every well-formed line
// with its status (the bench trace tools read logs through it); Replay and
// RunReport measure on a log how many requests the graph would have
// predicted, learning as it goes.
package prefetch
