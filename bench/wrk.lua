-- wrk script for bench/run.sh.
--
-- Request headers come from the environment so one script serves every case:
--   WRK_IF_NONE_MATCH  value of If-None-Match (the 304 case)
--   WRK_ACCEPT_ENCODING value of Accept-Encoding (the gzip case)
-- No request()/response() hooks: they run Lua per request and would make the
-- load generator, not the server, the bottleneck. Status errors are still
-- counted by wrk itself (summary.errors.status: responses >= 400).
--
-- done() prints one machine-readable line that run.sh parses:
--   RESULT requests=N seconds=S rps=R p50_us=A p90_us=B p99_us=C max_us=D
--          err_connect=.. err_read=.. err_write=.. err_status=.. err_timeout=..
--          bytes=N (every byte read, responses cut off at the end included)

local inm = os.getenv("WRK_IF_NONE_MATCH")
if inm and inm ~= "" then
   wrk.headers["If-None-Match"] = inm
end
local ae = os.getenv("WRK_ACCEPT_ENCODING")
if ae and ae ~= "" then
   wrk.headers["Accept-Encoding"] = ae
end

function done(summary, latency, requests)
   local secs = summary.duration / 1e6
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
      "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d bytes=%d\n",
      summary.requests, secs, summary.requests / secs,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.status, e.timeout, summary.bytes))
end
