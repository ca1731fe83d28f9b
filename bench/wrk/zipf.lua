-- zipf.lua: a Zipf-popular URL mix with a share of uncacheable misses.
--
--   wrk -s zipf.lua http://PROXY:PORT -- BASE SEQFILE NONCE [direct]
--
-- BASE is an absolute URL prefix such as http://127.0.0.1:8081/obj/1k/ .
-- SEQFILE holds one integer per line, written by benchrun's Zipf generator
-- (the distribution lives in Go, where it is unit-tested, and every product
-- replays the same sequence): a rank r > 0 means request BASE..r (cacheable,
-- popular ranks first); 0 means a miss, sent as
-- BASE.."m?miss=<nonce>-<thread>-<n>&cc=no-store", unique and uncacheable.
-- Each thread starts at its own offset in the sequence and wraps around.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

local nthreads = 0

function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
end

local seq, n, pos, prefix, nonce, host
local cache = {}
local misses = 0

function init(args)
  local base, seqfile = args[1], args[2]
  nonce = args[3] or "0"
  if base == nil or seqfile == nil then
    error("zipf.lua: pass BASE SEQFILE [NONCE] [direct] after --")
  end
  local path
  host, path = base:match("^https?://([^/]+)(/.*)$")
  if args[4] == "direct" then
    prefix = path
  else
    prefix = base
  end
  seq = {}
  for line in io.lines(seqfile) do
    seq[#seq + 1] = tonumber(line)
  end
  n = #seq
  pos = ((tid or 0) * 100003) % n
end

function request()
  pos = pos + 1
  if pos > n then
    pos = 1
  end
  local r = seq[pos]
  if r == 0 then
    misses = misses + 1
    return wrk.format("GET", prefix .. "m?miss=" .. nonce .. "-" .. tid .. "-" .. misses .. "&cc=no-store",
      { ["Host"] = host })
  end
  local req = cache[r]
  if req == nil then
    req = wrk.format("GET", prefix .. r, { ["Host"] = host })
    cache[r] = req
  end
  return req
end

done = report.done
