-- proxy.lua: one fixed URL, sent through an HTTP forward proxy.
--
--   wrk -s proxy.lua http://PROXY:PORT -- URL [direct]
--
-- wrk connects to the host:port of its own URL argument (the proxy) and
-- writes wrk.path verbatim as the request target. Setting wrk.path to the
-- absolute URL therefore yields the absolute-form request line a forward
-- proxy expects ("GET http://origin:port/obj/1k/hit HTTP/1.1", RFC 9112
-- §3.2.2), with Host set to the origin. With "direct" the same URL is sent
-- in origin-form to a server that is itself the origin (or the ceiling).
--
-- The request is built once per thread (no request() function), so wrk
-- sends a static buffer and spends no Lua time per request.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

function init(args)
  local url = args[1]
  if url == nil then
    error("proxy.lua: pass the absolute URL after --")
  end
  local host, path = url:match("^https?://([^/]+)(/.*)$")
  if host == nil then
    host, path = url:match("^https?://([^/]+)$"), "/"
  end
  if args[2] == "direct" then
    wrk.path = path
  else
    wrk.path = url
  end
  wrk.headers["Host"] = host
end

done = report.done
