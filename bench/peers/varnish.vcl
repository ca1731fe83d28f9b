vcl 4.1;
# Varnish as a forward caching proxy. Rendered per run by benchrun.
#
# Varnish is a reverse proxy with a fixed backend; it takes absolute-form
# request lines as they come, so vcl_recv splits "http://host:port/path"
# into Host and path, which then hash exactly as a reverse-proxy request
# would. Requests for any other host are refused: Varnish can only forward
# to the backends it was given. Everything else is the built-in VCL
# (Cache-Control honoured, no-store passed as hit-for-miss).

backend origin {
    .host = "{{.OriginHost}}";
    .port = "{{.OriginPort}}";
}

sub vcl_recv {
    if (req.url ~ "^http://") {
        set req.http.Host = regsub(req.url, "^http://([^/]+).*$", "\1");
        set req.url = regsub(req.url, "^http://[^/]+", "");
        if (req.url == "") {
            set req.url = "/";
        }
    }
    if (req.http.Host != "{{.OriginHost}}:{{.OriginPort}}") {
        return (synth(403, "Forbidden"));
    }
}
