// Package errpage renders the HTML error pages a browser user sees when the
// proxy itself answers with an error, as Squid's ERR_* pages do: what
// happened in plain words, the URL, the proxy's name, the time, and what the
// user can try.
//
// A Set holds one html/template per page name. The built-in set has a single
// layout, error.html, embedded in the binary; Load adds the templates of a
// directory (errors.template_dir), where error.html replaces the layout and
// a file named after one page, such as ERR_ACCESS_DENIED.html, replaces it
// for that page alone. Every template is parsed and executed once on sample
// data when it is loaded, so a bad template is an error naming its file at
// start-up or reload, never a broken page later. html/template escapes every
// value taken from the request (the URL above all) for its context.
//
// Rendering allocates; it runs only for errors, never for a cache hit.
package errpage
